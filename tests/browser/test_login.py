"""Logging in, the dashboard in Chinese, the language switcher and logging out, in a real browser."""

import re

import pytest
from django.conf import settings

from tests.browser.conftest import foreign_requests, log_in

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_street_staff_log_in_see_their_dashboard_in_chinese_switch_to_english_and_log_out(
    page, live_server, city, people, save_screenshot
):
    log_in(page, live_server, "s11_command", "pw-s11_command")

    # Lands on the command-centre dashboard of their street, in Chinese.
    assert page.url == f"{live_server.url}/dashboards/command/"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert settings.CITY_NAME in page.locator(".brand").inner_text()
    cards = page.locator(".cards")
    assert "南街道" in cards.inner_text()  # their street, by its Chinese name
    assert "北街道" not in cards.inner_text()  # never the neighbour street
    log_out_button = page.locator(".topnav form:not(.lang-switch) button")
    assert CJK.search(log_out_button.inner_text()), "the interface itself is in Chinese"
    # Chinese text really renders: the CJK font is there and the page says it is UTF-8.
    assert page.evaluate("document.characterSet") == "UTF-8"
    assert page.evaluate("document.fonts.check('16px \"WenQuanYi Zen Hei\"', '南街道')")
    save_screenshot()

    # The neighbour street answers 404, like a page that does not exist.
    response = page.goto(f"{live_server.url}/territory/regions/{city.s12.pk}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/territory/regions/{city.s11.pk}/")
    assert response.status == 200

    # The switcher turns the portal to English and keeps the user where they were.
    page.goto(f"{live_server.url}/dashboards/command/")
    with page.expect_navigation():
        page.click("form.lang-switch button[value=en]")
    assert page.url == f"{live_server.url}/dashboards/command/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Log out" in page.locator(".topnav").inner_text()
    save_screenshot("english")

    # Logging out leads back to the login form; the dashboard then asks to log in again.
    with page.expect_navigation():
        page.click(".topnav form:not(.lang-switch) button")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}/dashboards/command/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/?next=")

    assert page.requested_urls, "the recorder saw no request at all"
    assert foreign_requests(page, live_server) == []


def test_wrong_password_keeps_the_user_on_the_login_form(page, live_server, people):
    log_in(page, live_server, "s11_command", "not-the-password")
    assert page.url == f"{live_server.url}/accounts/login/"
    assert page.locator("[role=alert]").is_visible()
    assert page.locator("input[name=username]").input_value() == "s11_command"
