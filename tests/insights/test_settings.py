"""Malformed DSA and insights settings stop start-up with a message naming the variable."""

import pytest

from tests.tsconsole.test_settings import _boot


@pytest.mark.parametrize("name,value", [
    ("DSA_PUID_PREFIX", "has space"),
    ("DSA_TERRITORIAL_SCOPE", "DE,US"),
    ("DSA_TERMS_URL", "terms.example.com"),
    ("INSIGHTS_EXPORT_INLINE_MAX", "0"),
])
def test_malformed_dsa_settings_stop_start_up(tmp_path, name, value):
    result = _boot(tmp_path, **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_good_dsa_settings_boot(tmp_path):
    result = _boot(tmp_path, DSA_PUID_PREFIX="acme_eu", DSA_TERRITORIAL_SCOPE="de,fr",
                   DSA_TERMS_URL="https://acme.example/terms")
    assert result.returncode == 0, result.stderr
