"""The command-centre map: regions and incidents on a map, alerts, numbers, big screen and exports."""
