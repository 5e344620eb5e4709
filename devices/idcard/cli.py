"""`kiosk device read-card`: the card reader's self-test for maintenance on site.

It reads one card and prints what the reader decoded, so a technician can see that the
reader, its SAM module and the text decoding work. Privacy: the ID number is always masked;
the name is shown (checking that names decode correctly is the point of the test, and the
output goes to the technician's terminal, never to a log); birth date and address are not
shown (the mask exists to hide the birth date; the address only as its length). The driver's
log stays quiet unless --log-level is given, so an error is one line on stderr. Exit codes:
0 read, 3 no card, 4 reader missing/silent/garbled, 5 card present but unreadable or SAM fault.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

EXIT_NO_CARD, EXIT_READER, EXIT_CARD = 3, 4, 5


def register(dsub: argparse._SubParsersAction) -> None:
    p = dsub.add_parser("read-card", help="read one ID card and show it (ID number masked)")
    p.add_argument("--port", help="serial port (default: devices.card_reader.port of the config)")
    p.add_argument("--baud", type=int, help="baud rate (default: devices.card_reader.baudrate)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_read_card)


def _read_card(args: argparse.Namespace) -> int:
    from devices.idcard.errors import NoCard, ProtocolError, ReaderGone, ReaderNotAnswering, SamError
    from devices.idcard.reader import CardReader

    if not args.log_level:  # the printed report is the output; --log-level shows the driver's log too
        logging.getLogger().setLevel(logging.ERROR)
    section = args.cfg.devices.card_reader
    port = args.port or section.port
    reader = CardReader(port, args.baud or section.baudrate)
    try:
        sam_id = reader.sam_id()
        record = reader.read_card()
    except NoCard:
        print(f"no card is on the reader at {port}", file=sys.stderr)
        return EXIT_NO_CARD
    except (ReaderGone, ReaderNotAnswering, ProtocolError) as e:
        print(str(e), file=sys.stderr)
        return EXIT_READER
    except SamError as e:
        print(str(e), file=sys.stderr)
        return EXIT_CARD
    finally:
        reader.close()
    summary = {
        "port": port,
        "sam_id": sam_id,
        "kind": record.kind.value,
        "name": record.name,
        "gender": record.gender("en"),
        "nation": record.nation("en"),
        "id_masked": record.masked_id,
        "id_valid": record.id_valid,
        "issuer": record.issuer,
        "valid_from": record.valid_from.isoformat(),
        "valid_to": record.valid_to.isoformat() if record.valid_to else "long-term",
        "address_chars": len(record.address),
        "photo_bytes": len(record.photo),
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    print(f"card reader  {port} (SAM {sam_id})")
    print(f"card kind    {record.kind.value}")
    print(f"name         {record.name}")
    print(f"gender       {record.gender('zh')} / {record.gender('bo')} / {record.gender('en')}")
    if record.nation_code or record.extra.get("nationality"):
        print(f"nation       {record.nation('zh')} / {record.nation('bo')} / {record.nation('en')}")
    check = "check character OK" if record.id_valid else "CHECK FAILED"
    print(f"ID number    {record.masked_id} ({check})")
    print(f"address      ({len(record.address)} characters, not shown)")
    print(f"issuer       {record.issuer}")
    print(f"valid        {summary['valid_from']} .. {summary['valid_to']}")
    print(f"photo        {len(record.photo)} bytes of WLT data (not decoded)")
    return 0
