"""API plumbing shared by every app: the token endpoint (the error shape is in api_errors.py)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from . import signin
from .errors import InvalidInput


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
            raise InvalidInput("Unknown username or wrong password.")
        attempt.succeeded()
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
