# ruff: noqa: E501  (the spec's XML examples are kept as the spec writes them, one element a line)
"""The GeoReport v2 specification's own examples (wiki.open311.org/GeoReport_v2), request and answer.

The answers are the spec's, with their values; the conformance tests compare the portal's answers
with them field by field (the same fields, in the same order, with the same kinds of value). The
requests are the spec's too, with the values that must be the portal's own (a service code, a point
in the test city, an attribute code) put in by the test.
"""

DISCOVERY_JSON = {
    "changeset": "2011-02-03 14:18",
    "contact": "You can email or call for assistance api@mycity.org +1 (555) 555-5555",
    "key_service": "You can request a key here: http://api.mycity.gov/api_key/request",
    "endpoints": [
        {"specification": "http://wiki.open311.org/GeoReport_v2", "url": "http://open311.mycity.gov/v2",
         "changeset": "2010-11-23 09:01", "type": "production", "formats": ["text/xml", "application/json"]},
    ],
}
DISCOVERY_XML = """<?xml version="1.0" encoding="utf-8"?>
<discovery>
  <changeset>2011-02-03 14:18</changeset>
  <contact>You can email or call for assistance api@mycity.org +1 (555) 555-5555</contact>
  <key_service>You can request a key here: http://api.mycity.gov/api_key/request</key_service>
  <endpoints>
    <endpoint>
      <specification>http://wiki.open311.org/GeoReport_v2</specification>
      <url>http://open311.mycity.gov/v2</url>
      <changeset>2010-11-23 09:01</changeset>
      <type>production</type>
      <formats>
        <format>text/xml</format>
        <format>application/json</format>
      </formats>
    </endpoint>
  </endpoints>
</discovery>"""

SERVICES_JSON = [
    {"service_code": "001", "service_name": "Cans left out 24x7",
     "description": "Garbage or recycling cans that have been left out for more than 24 hours after collection. "
                    "Violators will be cited.",
     "metadata": True, "type": "realtime", "keywords": "lorem, ipsum, dolor", "group": "sanitation"},
    {"service_code": "002", "metadata": True, "type": "realtime", "keywords": "lorem, ipsum, dolor",
     "group": "street", "service_name": "Construction plate shifted",
     "description": "Metal construction plate covering the street or sidewalk has been moved."},
]
SERVICES_XML = """<?xml version="1.0" encoding="utf-8"?>
<services>
  <service>
    <service_code>001</service_code>
    <service_name>Cans left out 24x7</service_name>
    <description>Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.</description>
    <metadata>true</metadata>
    <type>realtime</type>
    <keywords>lorem, ipsum, dolor</keywords>
    <group>sanitation</group>
  </service>
</services>"""

SERVICE_DEFINITION_JSON = {
    "service_code": "DMV66",
    "attributes": [
        {"variable": True, "code": "WHISHETN", "datatype": "singlevaluelist", "required": True,
         "datatype_description": None, "order": 1, "description": "What is the ticket/tag/DL number?",
         "values": [{"key": 123, "name": "Ford"}, {"key": 124, "name": "Chrysler"}]},
    ],
}
SERVICE_DEFINITION_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_definition>
  <service_code>DMV66</service_code>
  <attributes>
    <attribute>
      <variable>true</variable>
      <code>WHISHETN</code>
      <datatype>singlevaluelist</datatype>
      <required>true</required>
      <datatype_description></datatype_description>
      <order>1</order>
      <description>What is the ticket/tag/DL number?</description>
      <values>
        <value>
          <key>123</key>
          <name>Ford</name>
        </value>
        <value>
          <key>124</key>
          <name>Chrysler</name>
        </value>
      </values>
    </attribute>
  </attributes>
</service_definition>"""

# POST requests: the spec's example body (form-encoded); {service_code}, {lat}, {long}, {attribute} are the portal's.
POST_REQUEST_BODY = ("api_key={api_key}&jurisdiction_id={jurisdiction_id}&service_code={service_code}"
                     "&lat={lat}&long={long}&address_string=1234+5th+street&email=smit222%40sfgov.edu"
                     "&device_id=tt222111&account_id=123456&first_name=john&last_name=smith&phone=111111111"
                     "&description=A+large+sinkhole+is+destroying+the+street"
                     "&media_url=http%3A%2F%2Fmedia.city.gov%2Fmedia%2Fsinkhole.jpg&attribute%5B{attribute}%5D={value}")
POST_RESPONSE_JSON = [
    {"service_request_id": 293944,
     "service_notice": "The City will inspect and require the responsible party to correct within 24 hours and/or "
                       "issue a Correction Notice or Notice of Violation of the Public Works Code",
     "account_id": None},
]
POST_RESPONSE_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>293944</service_request_id>
    <service_notice>The City will inspect and require the responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public Works Code</service_notice>
    <account_id/>
  </request>
</service_requests>"""
# The spec's other answer to a POST, a token for a request not yet made: the portal answers both fields.
POST_TOKEN_RESPONSE_JSON = [{"token": "12345"}]

TOKEN_RESPONSE_JSON = [{"service_request_id": 638344, "token": 12345}]
TOKEN_RESPONSE_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>638344</service_request_id>
    <token>12345</token>
  </request>
</service_requests>"""

REQUESTS_JSON = [
    {"service_request_id": 638344, "status": "closed", "status_notes": "Duplicate request.",
     "service_name": "Sidewalk and Curb Issues", "service_code": "006", "description": None,
     "agency_responsible": None, "service_notice": None, "requested_datetime": "2010-04-19T06:37:38-08:00",
     "updated_datetime": "2010-04-19T06:37:38-08:00", "expected_datetime": "2010-04-19T06:37:38-08:00",
     "address": "8TH AVE and JUDAH ST", "address_id": 545483, "zipcode": 94122, "lat": 37.762221815,
     "long": -122.4651145, "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"},
]
REQUESTS_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>638344</service_request_id>
    <status>closed</status>
    <status_notes>Duplicate request.</status_notes>
    <service_name>Sidewalk and Curb Issues</service_name>
    <service_code>006</service_code>
    <description></description>
    <agency_responsible></agency_responsible>
    <service_notice></service_notice>
    <requested_datetime>2010-04-19T06:37:38-08:00</requested_datetime>
    <updated_datetime>2010-04-19T06:37:38-08:00</updated_datetime>
    <expected_datetime>2010-04-19T06:37:38-08:00</expected_datetime>
    <address>8TH AVE and JUDAH ST</address>
    <address_id>545483</address_id>
    <zipcode>94122</zipcode>
    <lat>37.762221815</lat>
    <long>-122.4651145</long>
    <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg</media_url>
  </request>
</service_requests>"""
# GET requests: the spec's example query.
REQUESTS_QUERY = "start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=open"

ERROR_JSON = [{"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}]
ERROR_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors>
  <error>
    <code>403</code>
    <description>Invalid api_key received -- can't proceed with create_request.</description>
  </error>
</errors>"""
