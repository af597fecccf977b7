"""A loopback stand-in for raw.githubusercontent.com: answers `GET /<owner>/<repo>/<commit>/<path>`
with the file of ../shared/data that was copied from there, as its README says (written out
here on its own, so the tests check legislators/sources.py's manifest rather than reuse it).

    files = UpstreamFiles(shared_data_folder)
    receiver = HttpReceiver().start()
    receiver.respond = files
    files.replace("/unitedstates/.../legislators-current.yaml", b"...")  # serve something else
"""

from pathlib import Path

from tests.support.receivers import Reply, Request

LEGISLATORS_MAIN = "dfa9622263dd4c8d08636926e498f1845704d7eb"
LEGISLATORS_2023_09_20 = "98e8dceb1a11f11efec77b616e6bc344d38e2233"
CONTACT_CONGRESS = "6c4c16dd616e4a0e3dcba3c5f35e1e69ac345e3e"
CONTACT_STATES = "43dc796dd8b5ed2c9f988f1bfc42fac3c09a9cea"

# (owner/repo, commit) → {upstream path or folder/: its place in ../shared/data}
UPSTREAM = {
    ("unitedstates/congress-legislators", LEGISLATORS_MAIN): {
        name: f"congress-legislators/{name}"
        for name in (
            "legislators-current.yaml",
            "legislators-social-media.yaml",
            "legislators-district-offices.yaml",
            "executive.yaml",
        )
    },
    ("unitedstates/congress-legislators", LEGISLATORS_2023_09_20): {
        "legislators-current.yaml": "congress-legislators/snapshot-2023-09-20/"
        "legislators-current.yaml"
    },
    ("OpenSourceActivismTech/us-zipcodes-congress", "a6af9d9952a559e24dd936b119c0b0316aeb8930"): {
        "zccd.csv": "zccd/zccd_cd118.csv"
    },
    ("OpenSourceActivismTech/us-zipcodes-congress", "f58fe9912b312c2b8ab9174d1eb7b830a25af039"): {
        "zccd.csv": "zccd/zccd_cd119.csv"
    },
    ("unitedstates/contact-congress", CONTACT_CONGRESS): {
        "members/": "contact-forms/senate/",
        "documentation/schema.md": "contact-forms/schema.md",
        "support/variables.yaml": "contact-forms/variables.yaml",
        "support/constants.yaml": "contact-forms/constants.yaml",
    },
    ("j-ro/contact-states", CONTACT_STATES): {
        "members/us_president_02052025.yaml": "contact-forms/executive/us-president.yaml"
    },
}


def shared_path(url_path: str) -> str | None:
    """The ../shared/data path of an upstream URL path, or None when it is not one of them."""
    parts = url_path.lstrip("/").split("/", 3)
    if len(parts) != 4:
        return None
    owner, repo, commit, path = parts
    table = UPSTREAM.get((f"{owner}/{repo}", commit), {})
    if path in table:
        return table[path]
    for folder, local in table.items():
        if folder.endswith("/") and path.startswith(folder) and "/" not in path[len(folder) :]:
            return local + path[len(folder) :]
    return None


class UpstreamFiles:
    """An HttpReceiver's `respond`: the shared file at its upstream path, 404 for anything else;
    `replace` serves other bytes at one path (a tampered or truncated download)."""

    def __init__(self, root: Path):
        self.root = root
        self._replaced: dict[str, bytes] = {}

    def replace(self, url_path: str, body: bytes) -> None:
        self._replaced[url_path] = body

    def __call__(self, request: Request) -> Reply:
        if request.path in self._replaced:
            return Reply(200, self._replaced[request.path])
        local = shared_path(request.path)
        if local is None or ".." in local or not (self.root / local).is_file():
            return Reply(404, b"404: Not Found")
        return Reply(200, (self.root / local).read_bytes())
