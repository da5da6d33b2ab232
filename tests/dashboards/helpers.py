from governance.core.testing import page_client as client_for  # noqa: F401  (the tests' one session client)
