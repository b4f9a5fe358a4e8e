use super::*;
use alloc::vec;
use proptest::prelude::*;

fn frame_bytes(m: &Message<'_>, seq: u32) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(seq, &mut out).unwrap();
    out
}

#[test]
fn header_layout_is_fixed() {
    let bytes = frame_bytes(
        &Message::TpmCommand {
            locality: 3,
            command: &[0x80, 0x01],
        },
        0x0102_0304,
    );
    assert_eq!(
        bytes,
        [b'V', b'F', 1, 3, 1, 2, 3, 4, 0, 0, 0, 3, 3, 0x80, 0x01]
    );
}

#[test]
fn every_message_round_trips() {
    let messages = [
        Message::Hello,
        Message::Ready { version: "0.1.0" },
        Message::TpmCommand {
            locality: 0,
            command: &[1, 2, 3],
        },
        Message::TpmResponse(&[0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0]),
        Message::Cancel,
        Message::StateSaveRequest(StateKind::Permanent),
        Message::StateSaveRequest(StateKind::Volatile),
        Message::StateSaveReply(&[9; 100]),
        Message::StateLoad(&[]),
        Message::Log {
            level: 3,
            text: "booted",
        },
        Message::Shutdown,
        Message::Error {
            code: ErrorCode::Malformed,
            text: "bad magic",
        },
    ];
    for (i, m) in messages.iter().enumerate() {
        let seq = u32::try_from(i).unwrap();
        let bytes = frame_bytes(m, seq);
        let (frame, used) = decode(&bytes).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(frame.sequence, seq);
        assert_eq!(Message::parse(&frame).unwrap(), *m);
    }
}

#[test]
fn two_frames_in_one_buffer_decode_in_order() {
    let mut bytes = frame_bytes(&Message::Hello, 1);
    bytes.extend(frame_bytes(&Message::Shutdown, 2));
    let (a, used) = decode(&bytes).unwrap();
    assert_eq!(a.frame_type, FrameType::Hello);
    let (b, used2) = decode(&bytes[used..]).unwrap();
    assert_eq!(b.frame_type, FrameType::Shutdown);
    assert_eq!(used + used2, bytes.len());
}

#[test]
fn every_prefix_is_incomplete() {
    let bytes = frame_bytes(&Message::TpmResponse(&[7; 40]), 5);
    for n in 0..bytes.len() {
        let e = decode(&bytes[..n]).unwrap_err();
        assert!(e.is_incomplete(), "prefix {n}: {e}");
    }
    let (_, used) = decode(&bytes).unwrap();
    assert_eq!(used, bytes.len());
}

#[test]
fn incomplete_says_how_much_is_needed() {
    let bytes = frame_bytes(&Message::TpmResponse(&[7; 40]), 5);
    assert_eq!(
        decode(&bytes[..4]),
        Err(FrameError::Incomplete { needed: HEADER_LEN })
    );
    assert_eq!(
        decode(&bytes[..HEADER_LEN]),
        Err(FrameError::Incomplete {
            needed: HEADER_LEN + 40
        })
    );
}

#[test]
fn garbage_is_refused_at_the_first_bad_byte() {
    assert_eq!(decode(b"X"), Err(FrameError::BadMagic));
    assert_eq!(decode(b"VX"), Err(FrameError::BadMagic));
    assert_eq!(decode(b"VF\x02"), Err(FrameError::UnsupportedVersion(2)));
    assert_eq!(decode(b"VF\x01\x00"), Err(FrameError::UnknownType(0)));
    assert_eq!(decode(b"VF\x01\x0e"), Err(FrameError::UnknownType(14)));
    let mut long = b"VF\x01\x03\0\0\0\0".to_vec();
    long.extend_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(decode(&long), Err(FrameError::TooLong(u32::MAX)));
    let mut just_over = b"VF\x01\x03\0\0\0\0".to_vec();
    just_over.extend_from_slice(&u32::try_from(MAX_PAYLOAD + 1).unwrap().to_be_bytes());
    assert!(matches!(decode(&just_over), Err(FrameError::TooLong(_))));
}

#[test]
fn largest_payload_is_accepted_and_one_more_is_refused_on_encode() {
    let big = vec![0u8; MAX_PAYLOAD];
    let bytes = frame_bytes(&Message::TpmResponse(&big), 1);
    assert_eq!(bytes.len(), MAX_FRAME);
    assert!(decode(&bytes).is_ok());
    let mut out = Vec::new();
    let too_big = vec![0u8; MAX_PAYLOAD + 1];
    assert!(Message::TpmResponse(&too_big).encode(1, &mut out).is_err());
    assert!(out.is_empty());
    // State frames have their own, larger limit.
    let state = vec![0u8; MAX_STATE_PAYLOAD];
    let bytes = frame_bytes(&Message::StateLoad(&state), 1);
    assert_eq!(bytes.len(), MAX_STATE_FRAME);
    assert!(decode(&bytes).is_ok());
    let too_big = vec![0u8; MAX_STATE_PAYLOAD + 1];
    assert!(Message::StateSaveReply(&too_big)
        .encode(1, &mut out)
        .is_err());
    let mut header = b"VF\x01\x08\0\0\0\0".to_vec();
    header.extend_from_slice(&u32::try_from(MAX_STATE_PAYLOAD + 1).unwrap().to_be_bytes());
    assert!(matches!(decode(&header), Err(FrameError::TooLong(_))));
}

#[test]
fn start_frame_round_trips_and_hides_its_secrets() {
    let key = [0x11u8; 32];
    let entropy = [0x22u8; 32];
    let start = StartParams {
        instance: [7u8; 16],
        state_key: &key,
        entropy: &entropy,
        wall_clock_ms: 0x0102_0304_0506_0708,
        min_sequence: 42,
    };
    let bytes = frame_bytes(&Message::Start(start), 9);
    assert_eq!(bytes.len(), HEADER_LEN + START_LEN);
    assert_eq!(bytes[3], 12);
    let p = &bytes[HEADER_LEN..];
    assert_eq!(&p[0..2], &[0, 1]);
    assert_eq!(&p[2..18], &[7u8; 16]);
    assert_eq!(&p[18..50], &key);
    assert_eq!(&p[50..82], &entropy);
    assert_eq!(&p[82..90], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&p[90..98], &42u64.to_be_bytes());
    let (f, used) = decode(&bytes).unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(Message::parse(&f), Ok(Message::Start(start)));
    let dbg = alloc::format!("{:?}", Message::Start(start));
    assert!(!dbg.contains("17, 17"), "{dbg}");
    assert!(dbg.contains("redacted"), "{dbg}");
    // Wrong version, short and long payloads are refused.
    for bad in [&p[..97], &[p, &[0u8][..]].concat()[..]] {
        let mut out = Vec::new();
        encode(FrameType::Start, 1, &[bad], &mut out).unwrap();
        let (f, _) = decode(&out).unwrap();
        assert_eq!(
            Message::parse(&f),
            Err(FrameError::BadPayload(FrameType::Start))
        );
    }
    let mut v2 = p.to_vec();
    v2[1] = 2;
    let mut out = Vec::new();
    encode(FrameType::Start, 1, &[&v2], &mut out).unwrap();
    let (f, _) = decode(&out).unwrap();
    assert!(Message::parse(&f).is_err());
}

#[test]
fn payloads_that_do_not_fit_their_type_are_refused() {
    let cases: &[(FrameType, &[u8])] = &[
        (FrameType::Hello, &[0]),
        (FrameType::Cancel, &[0]),
        (FrameType::Shutdown, &[1]),
        (FrameType::TpmCommand, &[]),
        (FrameType::TpmCommand, &[0]),
        (FrameType::TpmCommand, &[5, 0x80]),
        (FrameType::StateSaveRequest, &[]),
        (FrameType::StateSaveRequest, &[3]),
        (FrameType::StateSaveRequest, &[1, 1]),
        (FrameType::Log, &[]),
        (FrameType::Log, &[0, b'a']),
        (FrameType::Log, &[3, 0xff]),
        (FrameType::Ready, &[0xc3]),
        (FrameType::Error, &[0]),
        (FrameType::Error, &[0, 1, 0xff]),
    ];
    for (t, payload) in cases {
        let mut bytes = Vec::new();
        encode(*t, 1, &[payload], &mut bytes).unwrap();
        let (frame, _) = decode(&bytes).unwrap();
        assert_eq!(
            Message::parse(&frame),
            Err(FrameError::BadPayload(*t)),
            "{t:?} {payload:?}"
        );
    }
}

#[test]
fn unknown_error_codes_are_kept_as_other() {
    let mut bytes = Vec::new();
    encode(FrameType::Error, 1, &[&[0x12, 0x34]], &mut bytes).unwrap();
    let (frame, _) = decode(&bytes).unwrap();
    assert_eq!(
        Message::parse(&frame),
        Ok(Message::Error {
            code: ErrorCode::Other,
            text: ""
        })
    );
}

#[test]
fn error_codes_name_the_failure() {
    assert_eq!(FrameError::BadMagic.code(), ErrorCode::Malformed);
    assert_eq!(FrameError::TooLong(1).code(), ErrorCode::TooLong);
    assert_eq!(FrameError::UnknownType(0).code(), ErrorCode::UnknownType);
    assert_eq!(FrameError::UnsupportedVersion(9).code(), ErrorCode::Version);
}

/// A frame taken out of a receiver: (type, sequence, payload).
type Owned = (FrameType, u32, Vec<u8>);

/// Collects what a receiver hands out.
fn drain_all(rx: &mut Receiver) -> Vec<Result<Owned, FrameError>> {
    let mut got = Vec::new();
    rx.drain(|r| got.push(r.map(|f| (f.frame_type, f.sequence, f.payload.to_vec()))));
    got
}

#[test]
fn receiver_reassembles_frames_split_anywhere() {
    let mut stream = frame_bytes(&Message::Hello, 1);
    stream.extend(frame_bytes(&Message::TpmResponse(&[5; 300]), 2));
    stream.extend(frame_bytes(&Message::Shutdown, 3));
    for piece in [1, 2, 5, 11, 12, 13, 100, stream.len()] {
        let mut rx = Receiver::new();
        let mut got = Vec::new();
        for chunk in stream.chunks(piece) {
            assert_eq!(rx.push(chunk), chunk.len());
            got.extend(drain_all(&mut rx));
        }
        assert_eq!(rx.buffered(), 0);
        let seqs: Vec<u32> = got.iter().map(|r| r.as_ref().unwrap().1).collect();
        assert_eq!(seqs, [1, 2, 3], "pieces of {piece}");
        assert_eq!(got[1].as_ref().unwrap().2, vec![5; 300]);
    }
}

#[test]
fn receiver_drops_garbage_and_recovers() {
    let mut rx = Receiver::new();
    let mut stream = frame_bytes(&Message::Hello, 1);
    stream.extend_from_slice(b"garbage");
    stream.extend(frame_bytes(&Message::Hello, 2));
    rx.push(&stream);
    let got = drain_all(&mut rx);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].as_ref().unwrap().1, 1);
    assert_eq!(got[1], Err(FrameError::BadMagic));
    // Everything after the garbage was dropped with it.
    assert_eq!(rx.buffered(), 0);
    rx.push(&frame_bytes(&Message::Hello, 3));
    let got = drain_all(&mut rx);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_ref().unwrap().1, 3);
}

#[test]
fn receiver_refuses_an_oversized_length_at_once() {
    let mut rx = Receiver::new();
    let mut header = b"VF\x01\x03\0\0\0\x01".to_vec();
    header.extend_from_slice(&u32::MAX.to_be_bytes());
    rx.push(&header);
    assert_eq!(drain_all(&mut rx), [Err(FrameError::TooLong(u32::MAX))]);
    assert_eq!(rx.buffered(), 0);
}

#[test]
fn receiver_holds_at_most_its_limit() {
    let mut rx = Receiver::new();
    let big = vec![0u8; (Receiver::LIMIT - 2 * HEADER_LEN) / 2];
    let mut stream = Vec::new();
    for seq in 0..3 {
        stream.extend(frame_bytes(&Message::StateLoad(&big), seq));
    }
    let taken = rx.push(&stream);
    assert_eq!(taken, Receiver::LIMIT);
    assert_eq!(rx.room(), 0);
    assert_eq!(drain_all(&mut rx).len(), 2);
    assert_eq!(rx.push(&stream[taken..]), stream.len() - taken);
    assert_eq!(drain_all(&mut rx).len(), 1);
}

proptest! {
    #[test]
    fn receiver_never_panics_on_arbitrary_pieces(
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16),
    ) {
        let mut rx = Receiver::new();
        for p in &pieces {
            rx.push(p);
            let _ = drain_all(&mut rx);
            prop_assert!(rx.buffered() <= Receiver::LIMIT);
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok((frame, used)) = decode(&bytes) {
            prop_assert!(used <= bytes.len());
            let _ = Message::parse(&frame);
        }
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_prefix_never_panic(
        t in any::<u8>(),
        rest in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = b"VF\x01".to_vec();
        bytes.push(t);
        bytes.extend_from_slice(&rest);
        match decode(&bytes) {
            Ok((frame, used)) => {
                prop_assert_eq!(used, HEADER_LEN + frame.payload.len());
                let _ = Message::parse(&frame);
            }
            Err(FrameError::Incomplete { needed }) => prop_assert!(needed > bytes.len()),
            Err(_) => {}
        }
    }

    #[test]
    fn commands_round_trip(
        locality in 0u8..=4,
        seq in any::<u32>(),
        command in proptest::collection::vec(any::<u8>(), 1..600),
    ) {
        let m = Message::TpmCommand { locality, command: &command };
        let bytes = frame_bytes(&m, seq);
        let (frame, used) = decode(&bytes).unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(frame.sequence, seq);
        prop_assert_eq!(Message::parse(&frame).unwrap(), m);
    }
}

#[test]
fn signal_frames_round_trip_and_refuse_bad_kinds() {
    for (kind, data) in [
        (SignalKind::HashStart, &b""[..]),
        (SignalKind::HashData, &b"crtm"[..]),
        (SignalKind::HashEnd, &b""[..]),
    ] {
        let mut out = Vec::new();
        Message::Signal { kind, data }.encode(7, &mut out).unwrap();
        let (f, used) = decode(&out).unwrap();
        assert_eq!(used, out.len());
        assert_eq!(f.sequence, 7);
        assert_eq!(Message::parse(&f).unwrap(), Message::Signal { kind, data });
    }
    for bad in [&[][..], &[0][..], &[4][..], &[1, 0][..], &[3, 9][..]] {
        let mut out = Vec::new();
        encode(FrameType::Signal, 1, &[bad], &mut out).unwrap();
        let (f, _) = decode(&out).unwrap();
        assert!(Message::parse(&f).is_err(), "{bad:?}");
    }
}
