"""Registry URL parsing: the Go helper's ``ExtractRegistry`` table, its spoofs, and our extensions.

Upstream reference: awslabs/amazon-ecr-credential-helper ``ecr-login/api/client_test.go``
(``TestExtractRegistry``) and the regex in ``ecr-login/api/client.go``.
"""

from __future__ import annotations

from typing import Any

import pytest

from docker_credential_ecr_py._registry import dns_suffix, parse, registry_host

ID = "123456789012"
CN_ID = "210987654321"


def ecr(
    host: str,
    account: str,
    region: str,
    partition: str = "aws",
    *,
    fips: bool = False,
    dualstack: bool = False,
) -> dict[str, Any]:
    """What ``parse`` must return for a private registry."""
    return {
        "service": "ecr",
        "account": account,
        "region": region,
        "fips": fips,
        "dualstack": dualstack,
        "partition": partition,
        "host": host,
    }


def public(host: str) -> dict[str, Any]:
    """What ``parse`` must return for ECR Public (region us-east-1, no account)."""
    return {
        "service": "ecr-public",
        "account": "",
        "region": "us-east-1",
        "fips": False,
        "dualstack": host == "ecr-public.aws.com",
        "partition": "aws",
        "host": host,
    }


USE1 = f"{ID}.dkr.ecr.us-east-1.amazonaws.com"
USW2 = f"{ID}.dkr.ecr.us-west-2.amazonaws.com"

CASES = [
    # -- upstream TestExtractRegistry: accepted ----------------------------------------------
    pytest.param(
        f"https://{USE1}/v2/blah/blah", ecr(USE1, ID, "us-east-1"), id="upstream-https-path"
    ),
    pytest.param(USW2, ecr(USW2, ID, "us-west-2"), id="upstream-bare-us-west-2"),
    pytest.param(
        f"{ID}.dkr-ecr.us-west-2.on.aws",
        ecr(f"{ID}.dkr-ecr.us-west-2.on.aws", ID, "us-west-2", dualstack=True),
        id="upstream-dualstack-on-aws",
    ),
    pytest.param(
        f"{ID}.dkr-ecr-fips.us-west-2.on.aws",
        ecr(f"{ID}.dkr-ecr-fips.us-west-2.on.aws", ID, "us-west-2", fips=True, dualstack=True),
        id="upstream-dualstack-fips-on-aws",
    ),
    pytest.param(
        f"{CN_ID}.dkr.ecr.cn-north-1.amazonaws.com.cn/foo",
        ecr(f"{CN_ID}.dkr.ecr.cn-north-1.amazonaws.com.cn", CN_ID, "cn-north-1", "aws-cn"),
        id="upstream-china-path",
    ),
    pytest.param(
        f"{CN_ID}.dkr.ecr.cn-north-1.on.amazonwebservices.com.cn",
        ecr(
            f"{CN_ID}.dkr.ecr.cn-north-1.on.amazonwebservices.com.cn",
            CN_ID,
            "cn-north-1",
            "aws-cn",
            dualstack=True,
        ),
        id="upstream-china-dualstack",
    ),
    pytest.param(
        f"{CN_ID}.dkr.ecr.us-iso-east-1.c2s.ic.gov",
        ecr(f"{CN_ID}.dkr.ecr.us-iso-east-1.c2s.ic.gov", CN_ID, "us-iso-east-1", "aws-iso"),
        id="upstream-iso",
    ),
    pytest.param(
        f"{ID}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
        ecr(f"{ID}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", ID, "us-isob-east-1", "aws-iso-b"),
        id="upstream-iso-b",
    ),
    pytest.param(
        f"{ID}.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
        ecr(f"{ID}.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", ID, "eu-isoe-west-1", "aws-iso-e"),
        id="upstream-iso-e",
    ),
    pytest.param(
        f"{ID}.dkr.ecr.us-isof-east-1.csp.hci.ic.gov",
        ecr(f"{ID}.dkr.ecr.us-isof-east-1.csp.hci.ic.gov", ID, "us-isof-east-1", "aws-iso-f"),
        id="upstream-iso-f",
    ),
    pytest.param(
        f"{ID}.dkr-ecr.us-gov-east-1.on.aws",
        ecr(
            f"{ID}.dkr-ecr.us-gov-east-1.on.aws", ID, "us-gov-east-1", "aws-us-gov", dualstack=True
        ),
        id="upstream-govcloud-dualstack",
    ),
    pytest.param(
        f"{ID}.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
        ecr(
            f"{ID}.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            ID,
            "us-gov-west-1",
            "aws-us-gov",
            fips=True,
        ),
        id="upstream-govcloud-fips",
    ),
    pytest.param(
        f"{ID}.dkr-ecr-fips.us-gov-east-1.on.aws",
        ecr(
            f"{ID}.dkr-ecr-fips.us-gov-east-1.on.aws",
            ID,
            "us-gov-east-1",
            "aws-us-gov",
            fips=True,
            dualstack=True,
        ),
        id="upstream-govcloud-dualstack-fips",
    ),
    pytest.param(
        f"{ID}.dkr.ecr.eusc-de-east-1.amazonaws.eu",
        ecr(f"{ID}.dkr.ecr.eusc-de-east-1.amazonaws.eu", ID, "eusc-de-east-1", "aws-eusc"),
        id="upstream-eusc",
    ),
    pytest.param("https://public.ecr.aws", public("public.ecr.aws"), id="upstream-public-https"),
    pytest.param(
        "https://ecr-public.aws.com", public("ecr-public.aws.com"), id="upstream-public-ds-https"
    ),
    pytest.param("public.ecr.aws", public("public.ecr.aws"), id="upstream-public-bare"),
    pytest.param("ecr-public.aws.com", public("ecr-public.aws.com"), id="upstream-public-ds-bare"),
    pytest.param(
        "https://public.ecr.aws/amazonlinux", public("public.ecr.aws"), id="upstream-public-path"
    ),
    pytest.param(
        "https://ecr-public.aws.com/amazonlinux",
        public("ecr-public.aws.com"),
        id="upstream-public-ds-path",
    ),
    # -- upstream TestExtractRegistry: rejected ----------------------------------------------
    pytest.param(".dkr.ecr.not-real.amazonaws.com", None, id="upstream-reject-no-account"),
    pytest.param("not.ecr.io", None, id="upstream-reject-not-ecr"),
    pytest.param(
        f"https://{USW2}.fake.example.com/image:latest", None, id="upstream-reject-spoof-https"
    ),
    pytest.param(f"{USW2}.fake.example.com", None, id="upstream-reject-spoof-bare"),
    pytest.param(
        f"{ID}.dkr.ecr-fips.us-gov-west-1.amazonaws.com.fake.example.com",
        None,
        id="upstream-reject-spoof-fips",
    ),
    pytest.param(
        f"{CN_ID}.dkr.ecr.cn-north-1.amazonaws.com.cn.fake.example.com.cn",
        None,
        id="upstream-reject-spoof-china",
    ),
    pytest.param(f"{CN_ID}.dkr.ecr.cn-north-1.on.aws.com.cn", None, id="upstream-reject-on-aws-cn"),
    pytest.param(
        "https://public.ecr.aws.fake.example.com", None, id="upstream-reject-public-spoof-https"
    ),
    pytest.param("public.ecr.aws.fake.example.com", None, id="upstream-reject-public-spoof-bare"),
    # -- every partition suffix, plain form --------------------------------------------------
    pytest.param(
        f"{ID}.dkr.ecr.us-gov-west-1.amazonaws.com",
        ecr(f"{ID}.dkr.ecr.us-gov-west-1.amazonaws.com", ID, "us-gov-west-1", "aws-us-gov"),
        id="govcloud-plain",
    ),
    pytest.param(
        f"{CN_ID}.dkr.ecr.cn-northwest-1.amazonaws.com.cn",
        ecr(f"{CN_ID}.dkr.ecr.cn-northwest-1.amazonaws.com.cn", CN_ID, "cn-northwest-1", "aws-cn"),
        id="china-northwest",
    ),
    pytest.param(
        f"{ID}.dkr.ecr.us-iso-west-1.c2s.ic.gov",
        ecr(f"{ID}.dkr.ecr.us-iso-west-1.c2s.ic.gov", ID, "us-iso-west-1", "aws-iso"),
        id="iso-west",
    ),
    pytest.param(
        f"{ID}.dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
        ecr(f"{ID}.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", ID, "us-isof-south-1", "aws-iso-f"),
        id="iso-f-south",
    ),
    pytest.param(
        f"{ID}.dkr.ecr.ap-southeast-7.amazonaws.com",
        ecr(f"{ID}.dkr.ecr.ap-southeast-7.amazonaws.com", ID, "ap-southeast-7"),
        id="commercial-new-region",
    ),
    # -- FIPS and dual-stack combinations ----------------------------------------------------
    pytest.param(
        f"{ID}.dkr.ecr-fips.us-east-1.amazonaws.com",
        ecr(f"{ID}.dkr.ecr-fips.us-east-1.amazonaws.com", ID, "us-east-1", fips=True),
        id="fips-commercial",
    ),
    pytest.param(
        f"{ID}.dkr-ecr.us-east-1.amazonaws.com",
        ecr(f"{ID}.dkr-ecr.us-east-1.amazonaws.com", ID, "us-east-1", dualstack=True),
        id="dash-prefix-amazonaws-com",
    ),
    pytest.param(
        f"{ID}.dkr.ecr.us-west-2.on.aws",
        ecr(f"{ID}.dkr.ecr.us-west-2.on.aws", ID, "us-west-2", dualstack=True),
        id="dot-prefix-on-aws",
    ),
    pytest.param(
        f"{ID}.dkr.ecr-fips.us-east-2.on.aws",
        ecr(f"{ID}.dkr.ecr-fips.us-east-2.on.aws", ID, "us-east-2", fips=True, dualstack=True),
        id="dot-prefix-fips-on-aws",
    ),
    pytest.param(
        f"{ID}.dkr-ecr-fips.us-gov-west-1.amazonaws.com",
        ecr(
            f"{ID}.dkr-ecr-fips.us-gov-west-1.amazonaws.com",
            ID,
            "us-gov-west-1",
            "aws-us-gov",
            fips=True,
            dualstack=True,
        ),
        id="dash-prefix-fips-govcloud-amazonaws",
    ),
    pytest.param(
        f"{CN_ID}.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
        ecr(
            f"{CN_ID}.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
            CN_ID,
            "cn-northwest-1",
            "aws-cn",
            dualstack=True,
        ),
        id="dash-prefix-china-dualstack",
    ),
    pytest.param(
        f"{ID}.dkr.ecr.us_east_1x.amazonaws.com",
        ecr(f"{ID}.dkr.ecr.us_east_1x.amazonaws.com", ID, "us_east_1x"),
        id="region-underscore-allowed-by-go-regex",
    ),
    # -- public hosts with schemes, ports, paths ---------------------------------------------
    pytest.param("public.ecr.aws/", public("public.ecr.aws"), id="public-trailing-slash"),
    pytest.param(
        "public.ecr.aws/docker/library/alpine", public("public.ecr.aws"), id="public-bare-path"
    ),
    pytest.param(
        "https://ecr-public.aws.com/v2/", public("ecr-public.aws.com"), id="public-ds-v2-path"
    ),
    pytest.param("public.ecr.aws:443", public("public.ecr.aws"), id="public-port"),
    pytest.param("http://public.ecr.aws", public("public.ecr.aws"), id="public-http"),
    pytest.param("PUBLIC.ECR.AWS", public("public.ecr.aws"), id="public-upper-case"),
    pytest.param("public.ecr.aws.", public("public.ecr.aws"), id="public-trailing-dot"),
    # -- our extensions (host_of docstring) --------------------------------------------------
    pytest.param(f"http://{USE1}", ecr(USE1, ID, "us-east-1"), id="ext-http-scheme"),
    pytest.param(f"https://{USE1}", ecr(USE1, ID, "us-east-1"), id="ext-https-scheme"),
    pytest.param(f"HTTPS://{USE1}", ecr(USE1, ID, "us-east-1"), id="ext-upper-https-scheme"),
    pytest.param(f"HtTp://{USE1}/", ecr(USE1, ID, "us-east-1"), id="ext-mixed-http-scheme"),
    pytest.param(f"{USE1}:443", ecr(USE1, ID, "us-east-1"), id="ext-port-443"),
    pytest.param(f"{USE1}:5000", ecr(USE1, ID, "us-east-1"), id="ext-port-5000"),
    pytest.param(f"https://{USE1}:443/v2/", ecr(USE1, ID, "us-east-1"), id="ext-https-port-path"),
    pytest.param(f"{USE1}/repo/path", ecr(USE1, ID, "us-east-1"), id="ext-bare-repo-path"),
    pytest.param(
        f"{USE1}/team/app:1.2@sha256:abc", ecr(USE1, ID, "us-east-1"), id="ext-path-tag-digest"
    ),
    pytest.param(USE1.upper(), ecr(USE1, ID, "us-east-1"), id="ext-upper-case-host"),
    pytest.param(
        f"{ID}.DKR.ECR-FIPS.US-GOV-WEST-1.AMAZONAWS.COM",
        ecr(
            f"{ID}.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            ID,
            "us-gov-west-1",
            "aws-us-gov",
            fips=True,
        ),
        id="ext-upper-case-fips-govcloud",
    ),
    pytest.param(f"{USE1}.", ecr(USE1, ID, "us-east-1"), id="ext-trailing-dot"),
    pytest.param(f"https://{USE1}.:443/v2/", ecr(USE1, ID, "us-east-1"), id="ext-dot-port-path"),
    pytest.param(f"user@{USE1}", ecr(USE1, ID, "us-east-1"), id="ext-userinfo"),
    pytest.param(
        f"https://AWS:secret@{USE1}:443/v2/", ecr(USE1, ID, "us-east-1"), id="ext-user-pass-port"
    ),
    pytest.param(f"{USE1}?x=1", ecr(USE1, ID, "us-east-1"), id="ext-query"),
    pytest.param(f"{USE1}#frag", ecr(USE1, ID, "us-east-1"), id="ext-fragment"),
    pytest.param(f"https://{USE1}/v2/?q=1#f", ecr(USE1, ID, "us-east-1"), id="ext-path-query-frag"),
    pytest.param(f"  {USE1}\n", ecr(USE1, ID, "us-east-1"), id="ext-surrounding-whitespace"),
    # -- rejects -----------------------------------------------------------------------------
    pytest.param("12345678901.dkr.ecr.us-east-1.amazonaws.com", None, id="reject-11-digit-account"),
    pytest.param(f"{ID}3.dkr.ecr.us-east-1.amazonaws.com", None, id="reject-13-digit-account"),
    pytest.param(
        "12345678901a.dkr.ecr.us-east-1.amazonaws.com", None, id="reject-letter-in-account"
    ),
    pytest.param(
        "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"
        ".dkr.ecr.us-east-1.amazonaws.com",
        None,
        id="reject-arabic-indic-digits",
    ),
    pytest.param(
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10\uff11\uff12"
        ".dkr.ecr.us-east-1.amazonaws.com",
        None,
        id="reject-fullwidth-digits",
    ),
    pytest.param(
        f"{ID}.d\u212ar.ecr.us-east-1.amazonaws.com",
        None,
        id="reject-kelvin-sign-lowercases-to-k",
    ),
    pytest.param(f"{ID}.dkr.ecr.us-east-1.amazonaws.c\u00f6m", None, id="reject-non-ascii-suffix"),
    pytest.param(f"https://https://{USE1}", None, id="reject-double-https"),
    pytest.param(f"http://https://{USE1}", None, id="reject-http-then-https"),
    pytest.param(f"http://{USE1}.fake.example.com", None, id="reject-http-spoof-suffix"),
    pytest.param(f"http://{USE1}.evil.com:443/v2/", None, id="reject-http-spoof-port"),
    pytest.param("http://public.ecr.aws.evil.com", None, id="reject-http-public-spoof"),
    pytest.param(f"evil.com/{USE1}", None, id="reject-ecr-host-in-path"),
    pytest.param(f"{USE1}@evil.com", None, id="reject-ecr-host-as-userinfo"),
    pytest.param(f"evil.com?{USE1}", None, id="reject-ecr-host-in-query"),
    pytest.param(f"evil.com\\@{USE1}", None, id="reject-backslash-userinfo-go-url-parse-fails"),
    pytest.param(f"{USE1}x", None, id="reject-suffix-plus-letter"),
    pytest.param(f"x{USE1}", None, id="reject-prefix-letter"),
    pytest.param(f"{USE1}..", None, id="reject-two-trailing-dots"),
    pytest.param("", None, id="reject-empty"),
    pytest.param(" \t\n ", None, id="reject-whitespace-only"),
    pytest.param("https://", None, id="reject-scheme-only"),
    pytest.param("[::1]", None, id="reject-ipv6-literal"),
    pytest.param("[2001:db8::1]:5000", None, id="reject-ipv6-literal-port"),
    pytest.param("127.0.0.1:5000", None, id="reject-ipv4"),
    pytest.param(f"{USE1}:abc", None, id="reject-bad-port"),
    pytest.param(f"{USE1}:443:443", None, id="reject-double-port"),
    pytest.param(f"{ID}.dkr.ecr.us-east-1.amazonaws%2ecom", None, id="reject-percent-encoded-dot"),
    pytest.param(f"{ID}.dkr.ecr.us-east-1.on.aws.com.cn", None, id="reject-on-aws-com-cn"),
    pytest.param(f"{ID}.dkr.ecr.-us-east-1.amazonaws.com", None, id="reject-region-leading-dash"),
    pytest.param(
        f"{ID}.dkr.ecr._us-east-1.amazonaws.com", None, id="reject-region-leading-underscore"
    ),
    pytest.param(f"{ID}.dkr.ecr.amazonaws.com", None, id="reject-missing-region"),
    pytest.param(f"{ID}.dkr.ecr..amazonaws.com", None, id="reject-empty-region"),
    pytest.param(f"{ID}.dkr.ecr.us.east.1.amazonaws.com", None, id="reject-dotted-region"),
    pytest.param(f"{ID}.dkr.ecr.us-east-1.amazonaws.org", None, id="reject-unknown-suffix"),
    pytest.param(f"{ID}.dkr.ecr.us-east-1.aws", None, id="reject-bare-aws-suffix"),
    pytest.param(f"{ID}.dkr_ecr.us-east-1.amazonaws.com", None, id="reject-underscore-prefix"),
    pytest.param(f"{ID}.dkr.ecrfips.us-east-1.amazonaws.com", None, id="reject-ecrfips"),
    pytest.param(f"{ID}.dkr.ecr-fips-fips.us-east-1.amazonaws.com", None, id="reject-double-fips"),
    pytest.param(f"{ID}.ecr.us-east-1.amazonaws.com", None, id="reject-missing-dkr"),
    pytest.param(f"{ID}.api.ecr.us-east-1.amazonaws.com", None, id="reject-api-endpoint"),
    pytest.param("api.ecr.us-east-1.amazonaws.com", None, id="reject-api-host"),
    pytest.param("ecr.aws", None, id="reject-ecr-aws"),
    pytest.param("docker.io", None, id="reject-docker-hub"),
    pytest.param("https://index.docker.io/v1/", None, id="reject-docker-hub-v1"),
]


@pytest.mark.parametrize(("server_url", "expected"), CASES)
def test_parse(server_url: str, expected: dict[str, Any] | None) -> None:
    registry = parse(server_url)
    if expected is None:
        assert registry is None, f"{server_url!r} must be rejected, got {registry!r}"
        return
    assert registry is not None, f"{server_url!r} must be accepted"
    got = {name: getattr(registry, name) for name in expected}
    assert got == expected


def test_case_count() -> None:
    assert len(CASES) >= 70
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("region", "suffix", "partition"),
    [
        pytest.param("us-east-1", "amazonaws.com", "aws", id="commercial"),
        pytest.param("eu-west-2", "amazonaws.com", "aws", id="commercial-eu"),
        pytest.param("us-gov-west-1", "amazonaws.com", "aws-us-gov", id="govcloud"),
        pytest.param("cn-north-1", "amazonaws.com.cn", "aws-cn", id="china"),
        pytest.param("cn-northwest-1", "amazonaws.com.cn", "aws-cn", id="china-northwest"),
        pytest.param("eusc-de-east-1", "amazonaws.eu", "aws-eusc", id="eusc"),
        pytest.param("us-iso-east-1", "c2s.ic.gov", "aws-iso", id="iso"),
        pytest.param("us-isob-east-1", "sc2s.sgov.gov", "aws-iso-b", id="iso-b"),
        pytest.param("eu-isoe-west-1", "cloud.adc-e.uk", "aws-iso-e", id="iso-e"),
        pytest.param("us-isof-south-1", "csp.hci.ic.gov", "aws-iso-f", id="iso-f"),
    ],
)
def test_registry_host_per_partition(region: str, suffix: str, partition: str) -> None:
    assert dns_suffix(region) == suffix
    host = registry_host(ID, region)
    assert host == f"{ID}.dkr.ecr.{region}.{suffix}"
    registry = parse(host)
    assert registry is not None
    assert (registry.account, registry.region, registry.partition) == (ID, region, partition)
    assert (registry.fips, registry.dualstack, registry.host) == (False, False, host)
