from governance.core.testing import body_of  # noqa: F401  (a response's bytes, streamed or not)
from governance.core.testing import page_client as client_for  # noqa: F401  (the tests' one session client)
