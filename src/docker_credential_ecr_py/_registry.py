"""Pure parsing of a registry server URL into an ECR or ECR Public registry.

Accepts every host the Go helper 0.12.0 accepts and rejects every spoof it rejects. Beyond it, the
forms real clients send are accepted (see ``parse``). No ``re``: this runs on every ``get``.
"""

ECR = "ecr"
ECR_PUBLIC = "ecr-public"
PUBLIC_HOSTS = ("public.ecr.aws", "ecr-public.aws.com")

# DNS suffix -> partition. "aws" becomes "aws-us-gov" for us-gov-* regions.
_SUFFIXES = {
    "amazonaws.com": "aws",
    "amazonaws.com.cn": "aws-cn",
    "amazonaws.eu": "aws-eusc",
    "on.aws": "aws",
    "on.amazonwebservices.com.cn": "aws-cn",
    "c2s.ic.gov": "aws-iso",
    "sc2s.sgov.gov": "aws-iso-b",
    "cloud.adc-e.uk": "aws-iso-e",
    "csp.hci.ic.gov": "aws-iso-f",
}
_DIGITS = frozenset("0123456789")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_REGION_CHARS = _ALNUM | frozenset("-_")
_USERINFO = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:%"
)


class Registry:
    """One registry: ECR (account, region, FIPS, dual-stack) or ECR Public (region us-east-1)."""

    __slots__ = ("account", "dualstack", "fips", "host", "partition", "region", "service", "suffix")

    def __init__(
        self,
        service: str,
        host: str,
        account: str = "",
        region: str = "",
        fips: bool = False,
        dualstack: bool = False,
        suffix: str = "",
        partition: str = "aws",
    ) -> None:
        self.service = service
        self.host = host
        self.account = account
        self.region = region
        self.fips = fips
        self.dualstack = dualstack
        self.suffix = suffix
        self.partition = partition

    @property
    def is_public(self) -> bool:
        """True for ECR Public."""
        return self.service == ECR_PUBLIC

    @property
    def api_region(self) -> str:
        """The region the API is called in: ECR Public exists only in us-east-1."""
        return "us-east-1" if self.is_public else self.region

    def _fields(self) -> "tuple[object, ...]":
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Registry) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Registry({fields})"


def aws_domain(host: str) -> bool:
    """Whether ``host`` is under an AWS partition's DNS suffix, or the dual-stack API's
    ``api.aws`` (AWS's own endpoints, not an override)."""
    host = host.lower().rstrip(".")
    return any(host.endswith("." + suffix) for suffix in (*_SUFFIXES, "api.aws"))


def strip_scheme(text: str) -> str:
    """``text`` less one leading ``https://`` or ``http://`` (any case)."""
    lower = text[:8].lower()
    for scheme in ("https://", "http://"):
        if lower.startswith(scheme):
            return text[len(scheme) :]
    return text


def host_of(server_url: str) -> str:
    """The lower-cased host of a server URL as clients send it.

    Drops one ``https://`` or ``http://`` scheme (any case), a ``user@`` prefix, the path, query
    and fragment, a ``:port`` and one trailing dot. Returns ``""`` when nothing host-like is left.
    """
    text = server_url.strip(" \t\n\v\f\r")
    if any(ord(c) < 0x20 or c == "\x7f" for c in text):
        return ""  # as Go's url.Parse: "invalid control character in URL"
    text = strip_scheme(text)
    for sep in "/?#":
        cut = text.find(sep)
        if cut >= 0:
            text = text[:cut]
    at = text.rfind("@")
    if at >= 0:
        if not all(c in _USERINFO for c in text[:at]):
            return ""  # as Go's url.Parse: "invalid userinfo"
        text = text[at + 1 :]
    colon = text.rfind(":")
    if colon >= 0:
        port = text[colon + 1 :]
        if not all(c in _DIGITS for c in port):
            return ""
        text = text[:colon]
    if text.endswith("."):
        text = text[:-1]
    if not text.isascii():
        return ""  # checked before lower(): "\u212a".lower() is "k"
    return text.lower()


def parse(server_url: str) -> "Registry | None":
    """Parse a server URL; ``None`` when it is not an ECR or ECR Public registry."""
    host = host_of(server_url)  # lower-case ASCII, or ""
    if not host:
        return None
    if host in PUBLIC_HOSTS:
        return Registry(ECR_PUBLIC, host, region="us-east-1", dualstack=host == PUBLIC_HOSTS[1])
    return parse_private_host(host)


def parse_private_host(host: str) -> "Registry | None":
    """Match ``<12 digits>.dkr[.-]ecr[-fips].<region>.<suffix>`` exactly (a lower-cased host)."""
    if len(host) < 14 or host[12] != "." or not all(c in _DIGITS for c in host[:12]):
        return None
    rest = host[13:]
    if not (rest.startswith("dkr.ecr") or rest.startswith("dkr-ecr")):
        return None
    dualstack = rest[3] == "-"
    rest = rest[7:]
    fips = rest.startswith("-fips")
    if fips:
        rest = rest[5:]
    if not rest.startswith("."):
        return None
    region, dot, suffix = rest[1:].partition(".")
    if not dot or not region or region[0] not in _ALNUM:
        return None
    if not all(c in _REGION_CHARS for c in region):
        return None
    partition = _SUFFIXES.get(suffix)
    if partition is None:
        return None
    if suffix.startswith("on."):
        dualstack = True
    if partition == "aws" and region.startswith("us-gov-"):
        partition = "aws-us-gov"
    return Registry(
        ECR,
        host,
        account=host[:12],
        region=region,
        fips=fips,
        dualstack=dualstack,
        suffix=suffix,
        partition=partition,
    )


def dns_suffix(region: str) -> str:
    """The private-ECR DNS suffix of a region's partition."""
    for prefix, suffix in (
        ("cn-", "amazonaws.com.cn"),
        ("eusc-", "amazonaws.eu"),
        ("us-isob-", "sc2s.sgov.gov"),
        ("us-isof-", "csp.hci.ic.gov"),
        ("eu-isoe-", "cloud.adc-e.uk"),
        ("us-iso-", "c2s.ic.gov"),
    ):
        if region.startswith(prefix):
            return suffix
    return "amazonaws.com"


def registry_host(account: str, region: str) -> str:
    """``<account>.dkr.ecr.<region>.<suffix>``: the registry of an account in a region."""
    return f"{account}.dkr.ecr.{region}.{dns_suffix(region)}"
