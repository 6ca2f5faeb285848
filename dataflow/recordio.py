"""`mx.recordio`: MXNet's RecordIO files (dmlc-core's format) and its image record header.

A file is a sequence of records. Each record is written as one or more parts, each part being
    magic (uint32 0xced7230a) | lrec (uint32: cflag << 29 | length) | length bytes | zero padding to 4 bytes
where cflag 0 is a whole record, and 1 / 2 / 3 the first / a middle / the last part of a record whose payload holds
the magic at a 4-byte aligned offset: the writer cuts the payload there (dropping those 4 bytes), so a reader that
lost its place can find the next record by scanning for the magic; the reader joins the parts with the magic.
All integers are little-endian. The `.idx` index of MXIndexedRecordIO is text, one "key\\tbyte offset\\n" a record.

Files written here appear atomically: a writer writes `<uri>.tmp-<pid>` and renames it on close() (the index the
same way), so a reader never sees half a file. Reading runs no code from the file (no pickle).

Images: MXNet's `pack_img`/`unpack_img` use OpenCV; here they use Pillow (a dependency only of these two
functions). The arrays keep OpenCV's BGR channel order, so records are interchangeable, and PNG is lossless both
ways; JPEG bytes differ from OpenCV's encoder (same quality scale, other quantisation choices), and `quality` for
PNG is OpenCV's compression level 0-9, passed to Pillow's `compress_level`.
"""
import io
import numbers
import os
import struct
from collections import namedtuple
from multiprocessing import current_process

import numpy as np

from .base import MXNetError

__all__ = ["MXRecordIO", "MXIndexedRecordIO", "IRHeader", "pack", "unpack", "pack_img", "unpack_img"]

_MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", _MAGIC)
_PART_HEAD = struct.Struct("<II")
_LENGTH_BITS = 29
_MAX_LENGTH = (1 << _LENGTH_BITS) - 1


def _padding(length):
    return -length % 4


def _encode_record(buf):
    """The bytes of one record holding payload `buf` (split into parts at aligned copies of the magic)."""
    buf = bytes(buf)
    if len(buf) > _MAX_LENGTH:
        raise MXNetError("RecordIO only accepts records under 2^29 bytes, got %d bytes" % len(buf))
    out, start = [], 0
    for at in range(0, len(buf) - len(buf) % 4, 4):
        if buf[at:at + 4] == _MAGIC_BYTES:
            out += [_PART_HEAD.pack(_MAGIC, (1 if start == 0 else 2) << _LENGTH_BITS | (at - start)), buf[start:at]]
            start = at + 4
    out += [_PART_HEAD.pack(_MAGIC, (3 if start else 0) << _LENGTH_BITS | (len(buf) - start)), buf[start:],
            bytes(_padding(len(buf)))]
    return b"".join(out)


class MXRecordIO:
    """Reads (flag 'r') or writes (flag 'w') records one after another; `read()` returns None after the last.

    As in MXNet an object is used in the process that opened it (`read`/`write` elsewhere raise RuntimeError);
    pickling closes it and the copy reopens the file when the original was open."""

    def __init__(self, uri, flag):
        self.uri = os.fspath(uri)
        self.flag = flag
        self.handle = None
        self.pid = None
        self.is_open = False
        self.open()

    def open(self):
        """Opens the record file (a writer starts a new, empty file)."""
        if self.flag == "w":
            self._tmp_path = "%s.tmp-%d" % (self.uri, os.getpid())
            try:
                self.handle = open(self._tmp_path, "wb")
            except OSError as error:
                raise MXNetError("RecordIO: cannot open %s for writing: %s" % (self.uri, error)) from None
            self.writable = True
        elif self.flag == "r":
            try:
                self.handle = open(self.uri, "rb")
            except OSError as error:
                raise MXNetError("RecordIO: cannot open %s for reading: %s" % (self.uri, error)) from None
            self.writable = False
        else:
            raise ValueError("Invalid flag %s" % self.flag)
        self._records_read = 0
        self.pid = current_process().pid
        self.is_open = True

    def __del__(self):
        if getattr(self, "is_open", False):
            self.close()

    def __getstate__(self):
        was_open = self.is_open
        self.close()
        state = dict(self.__dict__)
        state["is_open"], state["handle"] = was_open, None
        return state

    def __setstate__(self, state):
        was_open = state["is_open"]
        self.__dict__ = state
        self.is_open = False
        if was_open:
            self.open()

    def _check_pid(self, allow_reset=False):
        """Reopen (allow_reset) or refuse when this object is used in another process than the one that opened it."""
        if self.pid != current_process().pid:
            if not allow_reset:
                raise RuntimeError("Forbidden operation in multiple processes")
            self.reset()

    def _check_open(self, writing):
        if not self.is_open:
            raise MXNetError("RecordIO: %s is closed" % self.uri)
        if writing != self.writable:
            raise MXNetError("RecordIO: %s is open with flag %r, cannot %s" % (self.uri, self.flag,
                                                                             "write" if writing else "read"))

    def close(self):
        """Closes the record file; a writer's file takes its name `uri` now."""
        if not self.is_open:
            return
        self.handle.close()
        if self.writable:
            os.replace(self._tmp_path, self.uri)
        self.is_open = False
        self.pid = None

    def reset(self):
        """Back to the first record; for a writer this closes the file written so far and starts an empty one."""
        self.close()
        self.open()

    def write(self, buf):
        """Appends the bytes `buf` as one record."""
        self._check_open(writing=True)
        self._check_pid(allow_reset=False)
        if not isinstance(buf, (bytes, bytearray, memoryview)):
            raise TypeError("MXRecordIO.write expects bytes, got %s" % type(buf).__name__)
        self.handle.write(_encode_record(buf))

    def tell(self):
        """The byte offset the next record will be written at."""
        self._check_open(writing=True)
        return self.handle.tell()

    def read(self):
        """The next record's bytes, or None at the end of the file."""
        self._check_open(writing=False)
        self._check_pid(allow_reset=False)
        record = self._read_record("record #%d" % self._records_read)
        if record is not None:
            self._records_read += 1
        return record

    def _read_at(self, offset, which):
        """The record at byte `offset` (for dataflow's iterators; errors name `which` record)."""
        self._check_open(writing=False)
        self.handle.seek(offset)
        return self._read_record(which)

    def _scan_offsets(self):
        """The byte offset of every record, read from the start; the reader ends at the end of the file."""
        self._check_open(writing=False)
        self.handle.seek(0)
        offsets = []
        while True:
            offset = self.handle.tell()
            if self._read_record("record #%d" % len(offsets)) is None:
                return offsets
            offsets.append(offset)

    def _read_record(self, which):
        """Reads the record at the current position; errors name the file, `which` record and its offset."""
        start = self.handle.tell()
        parts = []
        while True:
            offset = self.handle.tell()
            head = self.handle.read(_PART_HEAD.size)
            if not head and not parts:
                return None
            if len(head) < _PART_HEAD.size:
                raise MXNetError("RecordIO: %s is truncated: %s at byte %d ends inside a record header"
                                 % (self.uri, which, start))
            magic, lrec = _PART_HEAD.unpack(head)
            if magic != _MAGIC:
                raise MXNetError("RecordIO: %s is not a RecordIO file or is corrupt: bad magic 0x%08x at byte %d "
                                 "(%s)" % (self.uri, magic, offset, which))
            cflag, length = lrec >> _LENGTH_BITS, lrec & _MAX_LENGTH
            if (cflag in (0, 1)) != (not parts):
                raise MXNetError("RecordIO: %s is corrupt: part flag %d at byte %d out of order (%s)"
                                 % (self.uri, cflag, offset, which))
            data = self.handle.read(length + _padding(length))
            if len(data) < length:
                raise MXNetError("RecordIO: %s is truncated: %s at byte %d needs %d bytes, the file has %d"
                                 % (self.uri, which, start, length, len(data)))
            parts.append(data[:length])
            if cflag in (0, 3):
                return _MAGIC_BYTES.join(parts)


class MXIndexedRecordIO(MXRecordIO):
    """RecordIO with random access through the text index `idx_path` ("key\\toffset" lines); keys are converted
    with `key_type`. `keys` lists them in file order, `idx` maps each to its byte offset."""

    def __init__(self, idx_path, uri, flag, key_type=int):
        self.idx_path = os.fspath(idx_path)
        self.idx = {}
        self.keys = []
        self.key_type = key_type
        self.fidx = None
        super().__init__(uri, flag)

    def open(self):
        super().open()
        self.idx, self.keys = {}, []
        if self.writable:
            self._idx_tmp_path = "%s.tmp-%d" % (self.idx_path, os.getpid())
            self.fidx = open(self._idx_tmp_path, "w")
            return
        try:
            self.fidx = open(self.idx_path, "r")
        except OSError as error:
            self.handle.close()
            self.is_open = False
            raise MXNetError("RecordIO: cannot open the index %s: %s" % (self.idx_path, error)) from None
        size = os.fstat(self.handle.fileno()).st_size
        for number, line in enumerate(self.fidx, 1):
            fields = line.strip().split("\t")
            if fields == [""]:
                continue
            try:
                key, offset = self.key_type(fields[0]), int(fields[1])
            except (ValueError, IndexError):
                raise MXNetError("RecordIO: line %d of the index %s is not 'key<TAB>offset': %r"
                                 % (number, self.idx_path, line)) from None
            if not 0 <= offset < size:
                raise MXNetError("RecordIO: the index %s gives record %r the offset %d, past the end of %s "
                                 "(%d bytes)" % (self.idx_path, key, offset, self.uri, size))
            self.idx[key] = offset
            self.keys.append(key)

    def close(self):
        if not self.is_open:
            return
        super().close()
        self.fidx.close()
        if self.writable:
            os.replace(self._idx_tmp_path, self.idx_path)

    def __getstate__(self):
        state = super().__getstate__()
        state["fidx"] = None
        return state

    def seek(self, idx):
        """Moves the reader to the record with key `idx`."""
        self._check_pid(allow_reset=True)      # reopens a reader closed by pickling or used in a new process
        self._check_open(writing=False)
        if idx not in self.idx:
            raise KeyError("RecordIO: no record %r in the index %s" % (idx, self.idx_path))
        self.handle.seek(self.idx[idx])

    def read_idx(self, idx):
        """The record with key `idx`."""
        self.seek(idx)
        record = self._read_record("record %r" % (idx,))
        if record is None:
            raise MXNetError("RecordIO: the index %s points record %r at the end of %s"
                             % (self.idx_path, idx, self.uri))
        return record

    def write_idx(self, idx, buf):
        """Appends `buf` as the record with key `idx` and adds it to the index."""
        key = self.key_type(idx)
        offset = self.tell()
        self.write(buf)
        self.fidx.write("%s\t%d\n" % (key, offset))
        self.idx[key] = offset
        self.keys.append(key)


IRHeader = namedtuple("HEADER", ["flag", "label", "id", "id2"])
"""An image record's header: flag is 0 for a scalar float label, else the length of the float32 label vector that
follows the header; id and id2 are uint64 (im2rec puts the image's index in id)."""

_IR_FORMAT = struct.Struct("<IfQQ")


def pack(header, s):
    """An image record: the header (a label list or array becomes flag = its length, written after the header)
    followed by the bytes `s`."""
    header = IRHeader(*header)
    if isinstance(header.label, numbers.Number):
        header = header._replace(flag=0)
    else:
        label = np.asarray(header.label, dtype=np.float32).ravel()
        header = header._replace(flag=label.size, label=0)
        s = label.tobytes() + bytes(s)
    return _IR_FORMAT.pack(*header) + bytes(s)


def unpack(s):
    """(IRHeader, the bytes after it) of an image record; a vector label comes back as a float32 array."""
    if len(s) < _IR_FORMAT.size:
        raise MXNetError("recordio.unpack: a record of %d bytes is shorter than the %d-byte image record header"
                         % (len(s), _IR_FORMAT.size))
    header = IRHeader(*_IR_FORMAT.unpack_from(s))
    s = s[_IR_FORMAT.size:]
    if header.flag > 0:
        if len(s) < 4 * header.flag:
            raise MXNetError("recordio.unpack: the header announces %d float labels, the record holds %d bytes"
                             % (header.flag, len(s)))
        header = header._replace(label=np.frombuffer(s, np.float32, header.flag))
        s = s[header.flag * 4:]
    return header, s


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise MXNetError("mx.recordio's pack_img/unpack_img need Pillow here (pip install Pillow)") from None
    return Image


def _decode_opencv_style(buf, iscolor, what):
    """Decode image file bytes to a uint8 array as OpenCV's imdecode does: iscolor 1 gives (H, W, 3) in BGR order,
    0 gives (H, W) grayscale, -1 keeps the file's channels (gray (H, W), BGR, or BGRA with transparency)."""
    Image = _pillow()
    try:
        image = Image.open(io.BytesIO(buf))
        image.load()
    except Exception as error:      # Pillow raises several types for bad data
        raise MXNetError("cannot decode the image of %s (%d bytes): %s" % (what, len(buf), error)) from None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if iscolor == 0 or (iscolor != 1 and image.mode in ("1", "L", "I;16", "I", "F")):
        return np.asarray(image.convert("L"))
    if iscolor != 1 and has_alpha:
        return np.ascontiguousarray(np.asarray(image.convert("RGBA"))[:, :, [2, 1, 0, 3]])
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def unpack_img(s, iscolor=-1):
    """(IRHeader, image as a numpy uint8 array) of an image record, decoded as OpenCV's imdecode(buf, iscolor):
    1 gives (H, W, 3) in BGR order, 0 gives (H, W) grayscale, -1 keeps the file's channels."""
    header, s = unpack(s)
    return header, _decode_opencv_style(s, iscolor, "record id %s" % header.id)


def pack_img(header, img, quality=95, img_fmt=".jpg"):
    """An image record of the uint8 image `img` ((H, W) gray, (H, W, 3) BGR or (H, W, 4) BGRA, OpenCV's order)
    encoded as img_fmt: '.jpg' with JPEG `quality` 1-100, or '.png' with compression level `quality` 0-9."""
    Image = _pillow()
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise MXNetError("recordio.pack_img: expects a uint8 image (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
                         "got %s %s" % (img.dtype, img.shape))
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    elif img.ndim == 3:
        img = img[:, :, [2, 1, 0, 3][:img.shape[2]]]      # BGR(A) -> RGB(A)
    fmt = img_fmt.upper()
    buf = io.BytesIO()
    if fmt in (".JPG", ".JPEG"):
        if img.ndim == 3 and img.shape[2] == 4:
            img = img[:, :, :3]
        Image.fromarray(np.ascontiguousarray(img)).save(buf, format="JPEG", quality=int(quality))
    elif fmt == ".PNG":
        level = min(max(int(quality), 0), 9)
        Image.fromarray(np.ascontiguousarray(img)).save(buf, format="PNG", compress_level=level)
    else:
        raise MXNetError("recordio.pack_img: unsupported img_fmt %r (use '.jpg' or '.png')" % img_fmt)
    return pack(header, buf.getvalue())


def lst_rows(path):
    """(line number, fields, line) of each non-blank line of an im2rec .lst file ("index<TAB>label(s)<TAB>path"),
    the fields split at tabs and stripped; the readers (ImageIter, ImageRecordIter's path_imglist,
    ImageListDataset) check and parse them, each with its own error."""
    with open(path) as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield number, [field.strip() for field in line.rstrip("\n").split("\t")], line
