"""The public data the importers read, pinned to a known revision.

Each file is named by its path in a local data folder laid out as ../shared/data (see its
README), with its upstream repository, commit and path, its size and its sha256.
`local_or_fetched(kind)` is the folder an import reads: the configured local folder when it
exists, else the files downloaded from PUBLIC_DATA_BASE_URL (raw.githubusercontent.com by
default) as `<base>/<owner>/<repo>/<commit>/<path>`, verified, cached in var/public-data/ by
sha256 and laid out as in ../shared/data. A cached file is never downloaded again; offline, the
import stops with one message saying what is missing and how to supply it.
"""

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

Progress = Callable[[str], None]

# Seconds a connection or a read may stall; a download as a whole may take longer.
TIMEOUT = 30.0
CHUNK = 64 * 1024


class SourceError(CommandError):
    """A file cannot be had as pinned; the message says which and what to do. A CommandError,
    so a management command that lets it through ends with the message and exit status 1."""


class Offline(SourceError):
    """The public data cannot be downloaded: no network, or the server does not answer."""

    def __init__(self, message: str, *, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


class Mismatch(SourceError):
    """What was downloaded is not the pinned file (size or sha256): refused, nothing cached."""


@dataclass(frozen=True)
class Source:
    name: str  # its path in a local data folder (../shared/data layout)
    repo: str  # owner/name on GitHub
    commit: str
    path: str  # its path in the repository
    size: int
    sha256: str

    def url(self, base_url: str) -> str:
        path = urllib.parse.quote(self.path)
        return f"{base_url.rstrip('/')}/{self.repo}/{self.commit}/{path}"


CONGRESS_LEGISLATORS = "unitedstates/congress-legislators"
LEGISLATORS_MAIN = "dfa9622263dd4c8d08636926e498f1845704d7eb"  # main, 2026-06-15
LEGISLATORS_2023_09_20 = "98e8dceb1a11f11efec77b616e6bc344d38e2233"  # main's tip on 2023-09-20
ZCCD = "OpenSourceActivismTech/us-zipcodes-congress"
ZCCD_CD118 = "a6af9d9952a559e24dd936b119c0b0316aeb8930"  # zccd.csv for the 118th Congress
ZCCD_CD119 = "f58fe9912b312c2b8ab9174d1eb7b830a25af039"  # zccd.csv for the 119th Congress
CONTACT_CONGRESS = "unitedstates/contact-congress"
CONTACT_CONGRESS_COMMIT = "6c4c16dd616e4a0e3dcba3c5f35e1e69ac345e3e"  # 2026-08-13
CONTACT_STATES = "j-ro/contact-states"
CONTACT_STATES_COMMIT = "43dc796dd8b5ed2c9f988f1bfc42fac3c09a9cea"  # 2026-08-06

# What import_public_data reads (and the district offices beside them).
PUBLIC_DATA = (
    Source(
        "congress-legislators/legislators-current.yaml",
        CONGRESS_LEGISLATORS,
        LEGISLATORS_MAIN,
        "legislators-current.yaml",
        1081468,
        "423f7bdf2d4ee46589eed93361451408d309c2f81b45e5d7bb6fe9fa4ff0c321",
    ),
    Source(
        "congress-legislators/snapshot-2023-09-20/legislators-current.yaml",
        CONGRESS_LEGISLATORS,
        LEGISLATORS_2023_09_20,
        "legislators-current.yaml",
        1069588,
        "36d4ba387c57cc6ecdc272e09368598be9479210c62e91dfa68df83fd634b2fc",
    ),
    Source(
        "congress-legislators/executive.yaml",
        CONGRESS_LEGISLATORS,
        LEGISLATORS_MAIN,
        "executive.yaml",
        29850,
        "a2ab6d1043f9fb77cffc6ffe97f87d774c7dbdd82bd22919b33e7dba7cba12df",
    ),
    Source(
        "congress-legislators/legislators-district-offices.yaml",
        CONGRESS_LEGISLATORS,
        LEGISLATORS_MAIN,
        "legislators-district-offices.yaml",
        326605,
        "a667fa27e054dae8876c62aa81b5bac23e76c4d3dec495304d8958a80d20200e",
    ),
    # One upstream file, zccd.csv, at two commits: the shared folder names them by Congress.
    Source(
        "zccd/zccd_cd118.csv",
        ZCCD,
        ZCCD_CD118,
        "zccd.csv",
        640425,
        "fe8374c9a1f58cabf932d4e6b37af2acac4d53bdd19473811673907d09c30437",
    ),
    Source(
        "zccd/zccd_cd119.csv",
        ZCCD,
        ZCCD_CD119,
        "zccd.csv",
        642147,
        "2737474129243d8c53df02db43fc5d6e3d2274fe1af131c35517fb437e76fc01",
    ),
)

# The senators' form definitions: upstream members/<bioguide>.yaml, here senate/<bioguide>.yaml.
# One row each: bioguide id, size, sha256.
_SENATE_FORMS = """
A000382 4942 2c1c192aa99529c957e19ddfe1c3c93d9249e1dd506601b210bc7b88cb014203
A000383 3145 7ad0847e7cf11504b12e1952b963e59ae1355871e599d7e0c967fd8aaa6780f2
B001230 49389 c8b336d48b2864562d9898cf913286906681372e9b8c6a882ea16c6d3b7e9e6f
B001236 4179 386f907e7d1fdea9ed5e4cca3d25c165b791d00d9e881f022bf9ca676ca12091
B001243 3027 b7f71e2c2dfd07dd5c241187403634aa4c82ee173b97848a2bb0c0887f0bf865
B001261 4990 5ee8049afc7466dd297f38fe972ce7f345deb5f032fd563675cf968f2f96b37c
B001267 4960 099c46f1a4b67587b9a95b854d5821b9ce3299eecb5f83bbec2f7e82d110b659
B001277 24930 85dacc0e7a119906c17082ec8f7cf4cb1c299c51266eeb7101a4abfdc79ff46b
B001288 6166 594bc33b2663cd3712200f573a1d8c1995e5e0ee4657249b991262f6d7e6fb53
B001299 4659 cabb575a4bfb7829b8054536540a68fb05459df66e4dae7b06ec1da4de804b47
B001303 5775 91ddedd15f3a0ff99f5df2cfd3c2954c57a5d6bd94677882aef31f5e5ca352cb
B001305 5310 c10187453b24ac1c8dc5178b82517db2bbdf63a2f07a3ba6ef6fed98bb18a99d
B001319 3095 1ab7c2dfeff73f70184be8cd03512666eeed3005b0cd5e21a8313f8d1b304e2d
C000127 3935 d89120d6ab3693183cc78da4985c7c8c0c91745d23c4e47ef1ce5deeeee5ba3f
C000880 32848 aca84b9b7b3741aafaf78738dc1f63207d6ba978390d01c431caad17bcd24a31
C001035 3169 fe509125149d443fe3a4a4291c34caaf77d321210bb373c1c8b2a9d149b711a7
C001047 12343 81dc58eb0e25a093cbb38633b973245930f76e3f48067d748ea2c80d9825638d
C001056 4608 a7132edaa62dc71f255946372c29d2bd8bdfee510508d8c90240a6c41310197c
C001075 13763 aaa1cdb0d97142f47b75f8e098abc87df09a58b7566de7f47af4d338b8af6721
C001088 8616 873132380e7bf8e37abc26aa0d40796fd8e08d8b80ab95191168e5db656b7a38
C001095 4207 21aec157f48ebda2b90c915b5a15984710bc5088e1ce5f943ee146c3dbc56864
C001096 4024 27f33492aecfb88ed86cac7b7d116c477abe516e8794a6bacac931b9bd63ff1d
C001098 7983 dda87726525e48e0230685fd77569ae86cd28bba5ae46c62a0efd5b067e87b0b
C001113 3354 8935f06d020c1264994a261d230f895bb40a23415ca181d607827f57e5f12ada
C001114 4729 4b3c97d640eea74f6176eea5e1e3daa35e82c1cf9becc5214fa057ad59353c7c
D000563 10484 f03fb8072a611d33860c760e666ea4458b6315d4ac6bc7f3b6b8ec70a0e39c48
D000618 9276 0a490fc46be3da1f83f055cefe0d412b29e53f6ce5c066c1bd8725f8ae73df97
D000622 6903 2c7f3d12c5a14ab819bef0cb070a1c9cf2c3c9dedae282398bc3cb44fb632e16
E000295 22611 bfea93e716257f3b5c28b8ca4db57145796a5eeb8161f08fcced97a93b516f43
F000463 3477 b35b38e2db5b1e63a3ca09034dd1ef91d47b7bf8da420a1b387caae0be3ad590
F000479 4703 444e26636a90d5d8a0087678fd10ef44d02668c9b6b207bfaf5e043da0bdee17
G000359 4020 4d9e38ddfac61e5b7faac194955d55d8efdab16344698d6fe57efaa541ce2fac
G000386 4634 43cdb97b45b783cf05681ff7dbdc0044f1a2f614111cb7892b103e10d9b70c16
G000555 4619 fb6c5e3d46e9aba104adc65dd8540d3a80726b7a8b7a9581882f96c25ff86dcd
G000574 5400 d3f173767631e32660d2bc2e7fe2bc22a9643b1da0dac2e07ee44315142b3e81
H000273 9762 6c3232be48de00fd3067d1f48c642c2ac63ef08b657d0dd4d65e85b9472c46f4
H000601 3247 f7d69e354aa18344a3a768822cd128cfe339676f2f243b843bc51f33663f6101
H001042 5750 05e03340caa9bcd1682926af0b300dcfd54f9dd1b3afe60b601ce750aee699e5
H001046 8401 a7600a9f758865afc965877dde3270a24cb83760f1650c2017afefddc66d7f8a
H001061 5038 44ea52c702643858100336cac99c3d4d1dbc0843d5207abfaccc5a0e95e361e8
H001076 24579 4070fd548f8ffcda96c417f4125a4224aecf4ab152bddc9bedb4a25bbff371b0
H001079 3141 22932adbb65a0d7829ba62cafaebe5ca85cba81ef7ffb02e8d9323226b74a56b
H001089 3139 0df6ad487a6292277bfd7fc6943efd78d3dd5bd465b3f271252664da4f5a0024
H001104 5327 667cf281f441d34a079f642b7ec732ebe554ef5689762a0f9362b78c9aa53181
J000293 2025 9a0013623f7f0eb88336b0c343a00be8665692a62b99ac730e12e76f3fe4a3f3
J000312 5620 6c8a4599079bdf2d776a721a65b69ef421353f6de70bb24f2f7527dc234ee29e
K000367 3934 900e5621fa12b8d12237e20dfccf0638856f61bed35e2f59c67e68b7b55836c7
K000377 3819 f772e31e0dc80e953b4bde9c34399460e50bb1279885f95744a56694dbf0d22b
K000383 5481 a16d82743f230ecabf1a4de14ca1bfe95e2340c5ed34fe15c1856dc4c5cd4a32
K000384 4270 878099b398c991dfbe6f8283e03559a6d594733308875225beb510168c65732d
K000393 4283 3979cf2d958dee13cb52441041b8bfc32a8aba46a24e5a6508ae11c3d64461fe
K000394 4837 8332df3dcb8e9c63ae164186e55fdd96d7329466a1401909d2f9f04d2a1029f8
L000570 3563 2cd6c04a644d86241f7ec806060b13164464c9c34bff79bdc4d1402d62e14275
L000571 2729 44fd75ee2ecacb36e06da5fe94dd59b82144e033f000d9a6c2d0dfc32c27380f
L000575 7555 bb72eabe7aee82a56d6c9517a1c9541594d706053c661579239a9c5cfccba182
L000577 3824 9a64545e940d89d6ee6910a5422f1318395caf48b394b47cf3a17e795e9d88ad
M000133 5782 ea21b8b7278a2bc026d8c1389ff300299bcb966d3f12f9c2bd2e6ed7273d895c
M000355 7485 ddcc76e5c5d850716c57cf07ed4dcb2fed7df20d7fa80e5e3f008162365bb71b
M000934 3020 f82afdefb0075c016568da47367cf0c7643ac557d3037e0f2df76dab3d112e16
M001111 3743 f3fef37782138bfcce54a026b5f442873e79b090ce233e8409b007d22f71e16c
M001153 10939 07e6b57bf7c2afa3ba2148cefec2df3d81d778534f771f7eeca5d644e93057d1
M001169 21327 f530187f55d2483201bff977dcabd6490559b57ee3318bfa34e918b3a6887bef
M001176 4393 dd62610d10aeae02e76ca66a6d153650a04c03b59d4417429204359bdc14e71c
M001198 3476 7a5c5609d2ec9e311c61ad84f75a037c8805297bec26dadc9ccfe999587f7b11
M001242 5650 4c104a260d9e7d3b609d41db2502aa5bc312f9a4ef3d76b38f40cda0cdc49967
M001243 5653 7aea4b29e43de14b009e9bc6a7da80611445334359a18f5c858bd3b4a44eb6a9
M001244 5865 e19619513ea72e80352b11451456005d909e3c58ff2dcc6f254381d853e57d11
O000174 3473 fbc767cd13d4b4ee5a7c7d1ee7ae66f43c13e95b3ae56800cca59e92f6d3cf3a
P000145 3840 145191395cbbc2d16e305d2e6199d9fd3218f61fb4933072fef3791020eb8af2
P000595 4834 28ac09e41c953e7cb5d15e63ea040b832ea9aeeeb0c3ba00a654e8f3db9a6960
P000603 3340 f4d2d347a1af6bf1dac9931317b18f0fe7ef3f5009702e42e1f2cc7f6d2e7f78
R000122 31364 c90cc361933daae2515b1e9a60962f8a726194262f6e550fcb90c5aac5d66686
R000584 1768 54de088b9f66fb13f2b24a0ca75bd831855e45541626f8fcdd418f3e2c863525
R000605 30686 b4b9692eb050f438801498ce3d6795f497e888a7c2a5128b26c37159c52db20b
R000608 3985 9086ab2da0a4a598ad9ac085ba4d5a6ec893fa3ccb241c63ba92ac42281f8a42
R000618 3915 0ca815af2d9a2c01df073b65df37d27c67567c3b246787eaf8de520a8fc558f8
S000033 2824 aeb525caf22880a68ad90aa3c8c18ca77fe11d4ec4074298ebbf6f75b8755c89
S000148 6123 53f43d43fb60da4a3fbdba23fabcc485983e7e098b313d550e76307198526493
S001150 4904 775dc7be99ed6246c3a42fe98b63cda79a12c9ce4f8cb7007e06b45075da1c7a
S001181 4575 9ab83c3f978a8621411ebc334a552aadcc977b25e7069bd02126a847fdcccc71
S001184 2962 c8b1689b56d3275ba1710206c85d594001f9b66f0779a39f667656216f94d6e6
S001194 6239 fc6e0878497b12aba5d01aa7a6c31e2af39ac9008488693624da9f48bfd18a09
S001198 10531 081ccd3ac051bb24f05e469fecfd9975f50c6f1bdb389585421ed18bc0b4b0c9
S001203 4349 04e03c7f95c6a904506d69f0e5474aa3d27ea532fe89eb2002d772c54c42f28d
S001208 4703 cbf14df9b2a08e3d8c18d487aecbc3cccbd6ee60b389b02a7a5fcd7f4a98ef21
S001217 4406 92113e6e4a54e2193eb52c10940fa51115a9461a01d3ce62b89773b72b439b84
S001227 5123 4fe6b2d494e5e7ec5e08452a6e9a5e9f7f5a65678943dcaa64352a8a5e23101b
S001232 5665 e974824c6a60047024b3c867fb72a5836a144ca05e1d7e1e20b97d5c4621d506
T000250 4486 c478624b9e87bf8be2255d82fca53c6d18dc847f353917c9a5be2792a60e76e9
T000278 3656 8e5401d247773540cec9a6a6542d5380eff515219a66bca9c7a0a1c29bcc4c72
T000476 11185 eed506ed664ba4849b37d6f62e720904e4dd041271d50e32a6871cca5e4b2b93
V000128 5533 b96d3f701de7d7170eb190d61c3867c2d2000b9e46614a758c7ae2b1ce933a8c
W000437 1496 42aa747256ea18f734d309b288ba4433965935af11e2d3a7fb08bee9ea8dd4ae
W000779 4281 0151c2cfb2752265f29df7390f52081a61f186ac63701721f6560eb810fbbfe8
W000790 3621 59b0f92abe28d225f9f581427b5c4092f90613bbda0e2d303e272d258e3a7af5
W000800 5898 413406c645a035aa71684f007d2f6c42b9d5587294fd546ceb7f909d32bb12c7
W000802 3590 96e7e43a491e05f69b228f58c119b296b2351bc071c4fd45907ff899385be842
W000805 7571 1cc1eaf696201afcfbefe223f3305c3c5244147e4327b7b7c9d5405ccf7b0e8b
W000817 6161 8c38bd3854d950ed114d07689e8ec23761c7b0855f71ea096b4b53d864824c28
Y000064 10433 5bcb3bdc2b7f923adeeaee81b79e6bb8ec06cf8650bb4d474bfa5664e15d8b41
"""

CONTACT_FORMS = (
    Source(
        "contact-forms/schema.md",
        CONTACT_CONGRESS,
        CONTACT_CONGRESS_COMMIT,
        "documentation/schema.md",
        13138,
        "197b7e9767af00e35446df5730385080bc97d504980aed0a616dbe5d433716a6",
    ),
    Source(
        "contact-forms/variables.yaml",
        CONTACT_CONGRESS,
        CONTACT_CONGRESS_COMMIT,
        "support/variables.yaml",
        2490,
        "c567a0fdd38058f495987eeda98a98691a83bf0c8d26774046d70eda524d0378",
    ),
    Source(
        "contact-forms/constants.yaml",
        CONTACT_CONGRESS,
        CONTACT_CONGRESS_COMMIT,
        "support/constants.yaml",
        1944,
        "77d8e0df18d131d7c32db528e5a40e19da9eaf1f7360af8389bdd4b88dcb8b6f",
    ),
    Source(
        "contact-forms/executive/us-president.yaml",
        CONTACT_STATES,
        CONTACT_STATES_COMMIT,
        "members/us_president_02052025.yaml",
        3798,
        "3da60877324de8db834fda44de59b832447acab8f8886ae040742d1a8811c472",
    ),
    *(
        Source(
            f"contact-forms/senate/{bioguide}.yaml",
            CONTACT_CONGRESS,
            CONTACT_CONGRESS_COMMIT,
            f"members/{bioguide}.yaml",
            int(size),
            sha256,
        )
        for bioguide, size, sha256 in (row.split() for row in _SENATE_FORMS.split("\n") if row)
    ),
)


@dataclass(frozen=True)
class Kind:
    """A set of files one import reads, and the setting naming a local folder that holds them."""

    setting: str
    folder: str  # the folder of ../shared/data it is (names are relative to it there)
    sources: tuple[Source, ...]

    def relative(self, source: Source) -> str:
        return source.name.removeprefix(self.folder)


KINDS = {
    "public-data": Kind("LEGISLATOR_DATA_DIR", "", PUBLIC_DATA),
    "contact-forms": Kind("CONTACT_FORMS_DIR", "contact-forms/", CONTACT_FORMS),
}
MANIFEST = {source.name: source for kind in KINDS.values() for source in kind.sources}


def cache_dir() -> Path:
    return Path(settings.VAR_DIR) / "public-data"


def base_url() -> str:
    url = settings.PUBLIC_DATA_BASE_URL
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise SourceError(f"PUBLIC_DATA_BASE_URL must be an http(s) URL, not {url!r}")
    return url


def local_or_fetched(kind: str, *, progress: Progress | None = None) -> Path:
    """The folder to import `kind` from: the local folder its setting names when that exists,
    else the pinned files, downloaded once into var/public-data/ and laid out the same way.
    Raises SourceError (a CommandError) with one message when they cannot be had."""
    spec = KINDS[kind]
    local = Path(getattr(settings, spec.setting))
    if local.is_dir():
        return local
    say = progress or _silent
    say(f"No folder at {local} ({spec.setting}): using the pinned public data.")
    return fetched(kind, progress=progress)


def fetched(kind: str, *, progress: Progress | None = None) -> Path:
    """The folder of `kind`'s files from the cache, downloading those not there yet."""
    spec = KINDS[kind]
    tree = cache_dir() / f"{kind}-{_digest(spec.sources)}"
    if _tree_is_whole(tree, spec):
        return tree
    missing = [s for s in spec.sources if not _cached(s)]
    if missing:
        _download_all(spec, missing, progress or _silent)
    return _build_tree(tree, spec)


def fetch(name: str, *, progress: Progress | None = None) -> Path:
    """One file of the manifest, from the cache or downloaded, verified, into the cache."""
    try:
        source = MANIFEST[name]
    except KeyError:
        raise SourceError(f"{name}: not a file of the public data manifest") from None
    cached = _cached(source)
    if cached is None:
        spec = next(kind for kind in KINDS.values() if source in kind.sources)
        _download_all(spec, [source], progress or _silent)
        cached = cache_dir() / source.sha256
    return cached


# --- the cache ------------------------------------------------------------------------------


def _silent(message: str) -> None:
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _is_verified(path: Path, source: Source) -> bool:
    try:
        if path.stat().st_size != source.size:
            return False
    except OSError:
        return False
    return _sha256(path) == source.sha256


def _cached(source: Source) -> Path | None:
    """The cached file when it is there and intact (a damaged one is removed)."""
    path = cache_dir() / source.sha256
    if _is_verified(path, source):
        return path
    path.unlink(missing_ok=True)
    return None


def _digest(sources: Iterable[Source]) -> str:
    lines = "\n".join(f"{s.name} {s.sha256}" for s in sources)
    return hashlib.sha256(lines.encode()).hexdigest()[:16]


def _tree_is_whole(tree: Path, spec: Kind) -> bool:
    return tree.is_dir() and all(
        _is_verified(tree / spec.relative(source), source) for source in spec.sources
    )


def _build_tree(tree: Path, spec: Kind) -> Path:
    """The cached files under their names, linked into a folder that replaces any old one whole,
    so a reader never sees half a tree."""
    staging = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=f".{tree.name}-"))
    try:
        for source in spec.sources:
            target = staging / spec.relative(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            blob = cache_dir() / source.sha256
            try:
                os.link(blob, target)
            except OSError:  # no hard links on this file system
                shutil.copyfile(blob, target)
        shutil.rmtree(tree, ignore_errors=True)
        try:
            staging.rename(tree)
        except OSError:
            if not _tree_is_whole(tree, spec):  # not one a concurrent import just built
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tree


# --- downloading ----------------------------------------------------------------------------


def _download_all(spec: Kind, missing: list[Source], say: Progress) -> None:
    url = base_url()
    total = sum(s.size for s in missing)
    say(f"Downloading {len(missing)} files ({total:,} bytes) from {url} into {cache_dir()}")
    for index, source in enumerate(missing):
        try:
            _download(source, url, say, counter=f"[{index + 1}/{len(missing)}] ")
        except Offline as exc:
            raise Offline(_offline_message(spec, missing[index:], url, exc.reason)) from exc
        except SourceError as exc:
            raise type(exc)(f"{exc} {_remedy(spec, url)}") from exc


def _remedy(spec: Kind, url: str) -> str:
    return (
        f"To supply them, set {spec.setting} to a folder holding these files at these paths "
        f"(as ../shared/data{'/' + spec.folder.rstrip('/') if spec.folder else ''} beside the "
        "checkout has them), or connect to the internet so that they can be downloaded from "
        f"{url} (PUBLIC_DATA_BASE_URL), and run this command again."
    )


def _offline_message(spec: Kind, missing: list[Source], url: str, reason: str) -> str:
    names = [spec.relative(source) for source in missing]
    if len(names) > 8:
        names = [*names[:5], f"and {len(names) - 5} more"]
    size = sum(source.size for source in missing)
    return (
        f"The public data cannot be downloaded: {url} cannot be reached ({reason}). "
        f"Missing from {cache_dir()}: {', '.join(names)} ({len(missing)} files, {size:,} bytes). "
        + _remedy(spec, url)
    )


def _reason(error: object) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _download(source: Source, url: str, say: Progress, *, counter: str = "") -> Path:
    """Download to a temporary file in the cache, at most the pinned size; verify size and
    sha256; only then rename it into place (atomic, so a reader never sees part of a file)."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    location = source.url(url)
    target = cache / source.sha256
    descriptor, name = tempfile.mkstemp(dir=cache, prefix=f".{source.sha256[:12]}-")
    part = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as file:
            received, sha256 = _receive(source, location, file)
        if received != source.size:
            raise Mismatch(
                f"{source.name}: {location} sent {received:,} bytes, the pinned file has "
                f"{source.size:,}: refused, nothing cached."
            )
        if sha256 != source.sha256:
            raise Mismatch(
                f"{source.name}: {location} sent a file with sha256 {sha256}, the pinned file "
                f"has sha256 {source.sha256}: refused, nothing cached."
            )
        part.chmod(0o444)  # the cache is read, never edited
        part.replace(target)
    except urllib.error.HTTPError as exc:
        raise SourceError(
            f"{source.name}: {location} answered HTTP {exc.code} {exc.reason}."
        ) from exc
    except http.client.HTTPException as exc:  # e.g. the connection closed before the end
        raise SourceError(
            f"{source.name}: the download from {location} broke off ({type(exc).__name__}): "
            "nothing cached."
        ) from exc
    except urllib.error.URLError as exc:
        raise Offline(_reason(exc.reason)) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise Offline(_reason(exc)) from exc
    finally:
        part.unlink(missing_ok=True)
    say(f"{counter}{source.name}: {source.size:,} bytes, sha256 verified")
    return target


def _receive(source: Source, location: str, file) -> tuple[int, str]:
    """Stream the body into `file`, refusing it as soon as it outgrows the pinned size."""
    # base_url() allows http(s) only, so urlopen cannot be steered to file:// or ftp://.
    headers = {"User-Agent": "action-alerts importer"}
    request = urllib.request.Request(location, headers=headers)  # noqa: S310
    digest = hashlib.sha256()
    received = 0
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        announced = response.headers.get("Content-Length")
        if announced is not None and announced.isdigit() and int(announced) != source.size:
            raise Mismatch(
                f"{source.name}: {location} announces {int(announced):,} bytes, the pinned "
                f"file has {source.size:,}: refused, nothing cached."
            )
        while chunk := response.read(CHUNK):
            received += len(chunk)
            if received > source.size:
                raise Mismatch(
                    f"{source.name}: {location} sent more than the pinned {source.size:,} "
                    "bytes: refused, nothing cached."
                )
            digest.update(chunk)
            file.write(chunk)
    return received, digest.hexdigest()
