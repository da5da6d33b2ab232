from django import template

from governance.core.names import display_name

register = template.Library()


@register.filter(name="person")
def person(user) -> str:
    """{{ user|person }}: the name people use for this user."""
    return display_name(user)
