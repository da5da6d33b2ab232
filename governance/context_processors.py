from django.conf import settings


def portal(request):
    return {"CITY_NAME": settings.CITY_NAME}
