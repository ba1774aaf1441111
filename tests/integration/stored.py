"""The values the store keeps compressed in Redis (common/store/codec.h): a lead's state (field
`s` of cad:{s<N>}:lead:<id>) and each entry of its timeline (cad:{s<N>}:timeline:<id>) are zstd
frames made with the built-in dictionary v1 (common/store/dict/v1.json, a raw-content
dictionary); a value that is not a frame is plain JSON, as older versions and some tests wrote."""
import base64
import hashlib
import os

import zstandard

MAGIC = b"\x28\xb5\x2f\xfd"
DICT_V1 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common", "store",
                       "dict", "v1.json")
_dict = None


def _dictionary():
    global _dict
    if _dict is None:
        with open(DICT_V1, "rb") as f:
            _dict = zstandard.ZstdCompressionDict(f.read(), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return _dict


def decode(value):
    """The JSON text of a stored value (bytes; a str holding bytes as surrogate escapes, as
    fault_load.Redis returns them, works too). None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    if not value.startswith(MAGIC):
        return value.decode()
    dict_id = zstandard.get_frame_parameters(value).dict_id
    if dict_id != 0:
        raise ValueError(f"a frame of dictionary {dict_id}, not v1")
    return zstandard.ZstdDecompressor(dict_data=_dictionary()).decompress(value).decode()


def encode(text):
    """A JSON text as the store writes it (a frame with dictionary v1), for tests that write
    Redis directly."""
    c = zstandard.ZstdCompressor(level=3, dict_data=_dictionary(), write_checksum=False,
                                 write_content_size=True, write_dict_id=False)
    return c.compress(text.encode())


def id_digest(event_id):
    """How a lead state's ring of recent event ids ("event_ids") holds an id: "~" and the first
    64 bits of its SHA-256 in base64url (cadence_engine_id_digest); older states held the ids."""
    return "~" + base64.urlsafe_b64encode(hashlib.sha256(event_id.encode()).digest()[:8]).rstrip(b"=").decode()
