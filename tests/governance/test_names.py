from types import SimpleNamespace

from governance.core.names import display_name


def user(first="", last="", username="u1"):
    return SimpleNamespace(first_name=first, last_name=last, get_username=lambda: username)


def test_chinese_name_puts_family_name_first_without_space():
    assert display_name(user("志强", "陈")) == "陈志强"


def test_western_name_keeps_given_name_first():
    assert display_name(user("John", "Smith")) == "John Smith"


def test_user_without_name_shows_username():
    assert display_name(user(username="gw_440502001001001")) == "gw_440502001001001"
