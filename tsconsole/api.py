"""API plumbing shared by every app: the error format and the token endpoint."""

from django.db import DatabaseError, OperationalError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import signin
from .errors import DomainError


def exception_handler(exc, context):
    """Errors are `{"detail": ...}` (plus field errors); domain errors keep their status code."""
    if isinstance(exc, DomainError):
        body = {"detail": exc.message}
        if exc.field_errors:
            body["errors"] = exc.field_errors
        return Response(body, status=exc.status_code)
    if isinstance(exc, OperationalError):
        return Response({"detail": "The database is unavailable; try again shortly."}, status=503)
    if isinstance(exc, DatabaseError):
        return None  # a real bug: let it surface as a 500 and be logged
    return drf_exception_handler(exc, context)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenView(APIView):
    """Exchange a username and password for an API token (created on first use, then reused)."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []  # signin.begin throttles per account and per address instead

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
    )
    def post(self, request):
        from django.contrib.auth import authenticate

        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        try:
            attempt = signin.begin(request, username)
        except signin.SigninLocked as locked:
            raise exceptions.Throttled(wait=locked.retry_after, detail=str(locked))
        user = authenticate(request, username=username, password=serializer.validated_data["password"])
        if user is None or not user.is_active:
            attempt.failed()
            return Response({"detail": "Unknown username or wrong password."}, status=status.HTTP_400_BAD_REQUEST)
        attempt.succeeded()
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
