"""ASTERIX in pcap / pcapng captures (Ethernet or Linux cooked, IPv4/IPv6, UDP); times UTC.

Wire layout: the libpcap file header, then per packet a record header (capture time, lengths)
and the link-layer frame; the UDP payload of each packet is a run of ASTERIX data blocks
(``deconflict.surveillance.asterix``). Each packet's capture time is the reference day for the
times of day inside it. Packets that are not UDP are counted (``non_udp_packets``), not errors.
Errors (position = packet index): ``bad-pcap`` (the capture itself is cut or corrupt: packets
before the fault are kept), then the ASTERIX ones.
"""

from __future__ import annotations

import io
import struct
from collections import Counter
from collections.abc import Iterator
from typing import Final

import dpkt
import pandas as pd

from deconflict.surveillance.asterix import decode_blocks
from deconflict.surveillance.base import (
    DecodeOptions,
    Decoder,
    DecodeResult,
    ErrorLog,
    concat_results,
    make_result,
    register,
)
from deconflict.surveillance.report import empty_reports

PCAP_MAGICS: Final = (
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
)
PCAPNG_MAGIC: Final = b"\x0a\x0d\x0d\x0a"
LINKTYPE_LINUX_SLL: Final = 113


def _records(data: bytes, errors: ErrorLog) -> Iterator[tuple[float, bytes, int]]:
    """(capture time s, link frame, link type) per packet; a cut capture is one error."""
    if data[:4] == PCAPNG_MAGIC:
        try:
            reader = dpkt.pcapng.Reader(io.BytesIO(data))
            link = reader.datalink()
            for ts, buf in reader:
                yield float(ts), bytes(buf), link
        except (ValueError, dpkt.dpkt.NeedData, dpkt.dpkt.UnpackError) as exc:
            errors.add(0, "bad-pcap", f"pcapng capture cut or corrupt: {exc}", data[:24])
        return
    magic = data[:4]
    if magic not in PCAP_MAGICS or len(data) < 24:
        errors.add(0, "bad-pcap", "not a pcap capture (bad magic or header)", data[:24])
        return
    order = "<" if magic in (PCAP_MAGICS[0], PCAP_MAGICS[2]) else ">"
    frac = 1e-9 if magic in PCAP_MAGICS[2:] else 1e-6
    link = struct.unpack(order + "I", data[20:24])[0]
    pos = 24
    index = 0
    while pos < len(data):
        if pos + 16 > len(data):
            errors.add(index, "bad-pcap", "capture cut inside a packet header", data[pos:])
            return
        sec, sub, incl, _ = struct.unpack(order + "IIII", data[pos : pos + 16])
        if pos + 16 + incl > len(data):
            errors.add(
                index, "bad-pcap", f"capture cut inside packet {index}", data[pos : pos + 32]
            )
            return
        yield sec + sub * frac, data[pos + 16 : pos + 16 + incl], link
        pos += 16 + incl
        index += 1


def udp_payloads(
    data: bytes, errors: ErrorLog, counts: Counter[str]
) -> Iterator[tuple[int, float, bytes]]:
    """(packet index, capture time s, UDP payload) of each UDP packet."""
    for index, (ts, buf, link) in enumerate(_records(data, errors)):
        counts["packets"] += 1
        try:
            frame = dpkt.sll.SLL(buf) if link == LINKTYPE_LINUX_SLL else dpkt.ethernet.Ethernet(buf)
            ip = frame.data
            udp = ip.data if isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6) else None
        except (dpkt.dpkt.NeedData, dpkt.dpkt.UnpackError):
            udp = None
        if not isinstance(udp, dpkt.udp.UDP):
            counts["non_udp_packets"] += 1
            continue
        yield index, ts, bytes(udp.data)


def decode_pcap(data: bytes, options: DecodeOptions = DecodeOptions()) -> DecodeResult:
    """Decode every ASTERIX block in every UDP packet of a capture."""
    errors = ErrorLog()
    counts: Counter[str] = Counter()
    results = [
        decode_blocks(payload, options, pd.Timestamp(ts, unit="s", tz="UTC"), position=index)
        for index, ts, payload in udp_payloads(data, errors, counts)
    ]
    results.append(make_result(empty_reports(), errors, 0, counts))
    joined = concat_results(results)
    joined.errors = joined.errors.sort_values("position", kind="stable", ignore_index=True)
    return joined


def sniff_pcap(head: bytes) -> bool:
    return head[:4] in PCAP_MAGICS or head[:4] == PCAPNG_MAGIC


PCAP = register(
    Decoder(
        key="pcap",
        description="pcap/pcapng captures of ASTERIX over UDP",
        decode=decode_pcap,
        sniff=sniff_pcap,
        suffixes=(".pcap", ".pcapng", ".cap"),
    )
)
