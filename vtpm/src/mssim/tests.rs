use super::*;
use proptest::prelude::*;

fn send_command_frame(locality: u8, command: &[u8]) -> Vec<u8> {
    let mut f = code::SEND_COMMAND.to_be_bytes().to_vec();
    f.push(locality);
    f.extend_from_slice(&(command.len() as u32).to_be_bytes());
    f.extend_from_slice(command);
    f
}

const STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0];

#[test]
fn send_command_is_decoded_byte_exact() {
    let frame = send_command_frame(3, &STARTUP_CLEAR);
    assert_eq!(&frame[..9], &[0, 0, 0, 8, 3, 0, 0, 0, 12]);
    let (req, used) = decode_command(&frame).unwrap().unwrap();
    assert_eq!(used, frame.len());
    assert_eq!(
        req,
        CommandRequest::SendCommand {
            locality: 3,
            command: &STARTUP_CLEAR
        }
    );
}

#[test]
fn every_prefix_of_a_frame_is_incomplete() {
    let frame = send_command_frame(0, &STARTUP_CLEAR);
    for len in 0..frame.len() {
        assert_eq!(decode_command(&frame[..len]), Ok(None), "prefix {len}");
    }
    let frame = [0, 0, 0, 6, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc];
    for len in 0..frame.len() {
        assert_eq!(decode_command(&frame[..len]), Ok(None), "prefix {len}");
    }
    for len in 0..4 {
        assert_eq!(decode_platform(&[0, 0, 0, 1][..len]), Ok(None));
    }
}

#[test]
fn frames_are_taken_one_at_a_time() {
    let mut buf = send_command_frame(0, &STARTUP_CLEAR);
    let first = buf.len();
    buf.extend_from_slice(&code::SESSION_END.to_be_bytes());
    let (_, used) = decode_command(&buf).unwrap().unwrap();
    assert_eq!(used, first);
    let (req, used) = decode_command(&buf[first..]).unwrap().unwrap();
    assert_eq!(req, CommandRequest::SessionEnd);
    assert_eq!(used, 4);
}

#[test]
fn command_port_signals() {
    fn dec(b: &[u8]) -> (CommandRequest<'_>, usize) {
        decode_command(b).unwrap().unwrap()
    }
    assert_eq!(dec(&[0, 0, 0, 5]), (CommandRequest::HashStart, 4));
    assert_eq!(
        dec(&[0, 0, 0, 6, 0, 0, 0, 2, 9, 8]),
        (CommandRequest::HashData(&[9, 8]), 10)
    );
    assert_eq!(dec(&[0, 0, 0, 7]), (CommandRequest::HashEnd, 4));
    assert_eq!(
        dec(&[0, 0, 0, 15, 0, 0, 0, 1]),
        (CommandRequest::RemoteHandshake { client_version: 1 }, 8)
    );
    assert_eq!(
        dec(&[0, 0, 0, 16, 0, 0, 1, 0]),
        (CommandRequest::SetAlternativeResult(256), 8)
    );
    assert_eq!(dec(&[0, 0, 0, 20]), (CommandRequest::SessionEnd, 4));
    assert_eq!(dec(&[0, 0, 0, 21]), (CommandRequest::Stop, 4));
    // An empty TPM command is a frame; the engine answers it with an error.
    assert_eq!(
        dec(&[0, 0, 0, 8, 0, 0, 0, 0, 0]),
        (
            CommandRequest::SendCommand {
                locality: 0,
                command: &[]
            },
            9
        )
    );
}

#[test]
fn command_port_refusals() {
    assert_eq!(
        decode_command(&[0, 0, 0, 15, 0, 0, 0, 0]),
        Err(CodecError::ZeroClientVersion)
    );
    // Platform signals are not served on the command port.
    assert_eq!(
        decode_command(&[0, 0, 0, 1]),
        Err(CodecError::UnknownCode(1))
    );
    assert_eq!(
        decode_command(b"GET / HTTP/1.1\r\n"),
        Err(CodecError::UnknownCode(0x4745_5420))
    );
    // The length is refused as soon as it is known, before the payload arrives.
    assert_eq!(
        decode_command(&[0, 0, 0, 8, 0, 0xff, 0xff, 0xff, 0xff]),
        Err(CodecError::TooLarge {
            code: 8,
            len: u32::MAX
        })
    );
    let just_over = (MAX_FRAME_PAYLOAD as u32 + 1).to_be_bytes();
    let mut f = vec![0, 0, 0, 6];
    f.extend_from_slice(&just_over);
    assert_eq!(
        decode_command(&f),
        Err(CodecError::TooLarge {
            code: 6,
            len: MAX_FRAME_PAYLOAD as u32 + 1
        })
    );
    // Exactly the limit is accepted (and waits for the bytes).
    let mut f = vec![0, 0, 0, 8, 0];
    f.extend_from_slice(&(MAX_FRAME_PAYLOAD as u32).to_be_bytes());
    assert_eq!(decode_command(&f), Ok(None));
}

#[test]
fn platform_codes() {
    let expected = [
        (1, PlatformRequest::PowerOn),
        (2, PlatformRequest::PowerOff),
        (3, PlatformRequest::PhysPresOn),
        (4, PlatformRequest::PhysPresOff),
        (9, PlatformRequest::CancelOn),
        (10, PlatformRequest::CancelOff),
        (11, PlatformRequest::NvOn),
        (12, PlatformRequest::NvOff),
        (13, PlatformRequest::KeyCacheOn),
        (14, PlatformRequest::KeyCacheOff),
        (17, PlatformRequest::Reset),
        (18, PlatformRequest::Restart),
        (20, PlatformRequest::SessionEnd),
        (21, PlatformRequest::Stop),
        (25, PlatformRequest::GetCommandResponseSizes),
        (30, PlatformRequest::TestFailureMode),
    ];
    for (c, req) in expected {
        assert_eq!(
            decode_platform(&u32::to_be_bytes(c)),
            Ok(Some((req, 4))),
            "code {c}"
        );
    }
    for c in [0u32, 5, 6, 7, 8, 15, 16, 19, 22, 0xffff_ffff] {
        assert_eq!(
            decode_platform(&c.to_be_bytes()),
            Err(CodecError::UnknownCode(c))
        );
    }
}

#[test]
fn replies_are_byte_exact() {
    assert_eq!(encode_status(0), [0, 0, 0, 0]);
    assert_eq!(encode_status(1), [0, 0, 0, 1]);
    let resp = [0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0, 0];
    let framed = encode_send_command_reply(&resp).unwrap();
    assert_eq!(&framed[..4], &[0, 0, 0, 10]);
    assert_eq!(&framed[4..14], &resp);
    assert_eq!(&framed[14..], &[0, 0, 0, 0]);
    assert_eq!(
        encode_handshake_reply(1, 0x0d),
        [0, 0, 0, 1, 0, 0, 0, 0x0d, 0, 0, 0, 0]
    );
}

proptest! {
    #[test]
    fn decoders_never_panic_and_never_overrun(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(Some((_, used))) = decode_command(&bytes) {
            prop_assert!(used >= 4 && used <= bytes.len());
        }
        if let Ok(Some((_, used))) = decode_platform(&bytes) {
            prop_assert_eq!(used, 4);
        }
    }

    #[test]
    fn send_command_round_trips(locality in any::<u8>(), cmd in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let frame = send_command_frame(locality, &cmd);
        let (req, used) = decode_command(&frame).unwrap().unwrap();
        prop_assert_eq!(used, frame.len());
        prop_assert_eq!(req, CommandRequest::SendCommand { locality, command: &cmd });
    }

    #[test]
    fn declared_lengths_within_frames_never_panic(
        code in prop_oneof![Just(6u32), Just(8u32)],
        len in any::<u32>(),
        tail in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        let mut f = code.to_be_bytes().to_vec();
        if code == 8 {
            f.push(0);
        }
        f.extend_from_slice(&len.to_be_bytes());
        f.extend_from_slice(&tail);
        match decode_command(&f) {
            Ok(Some((_, used))) => prop_assert!(used <= f.len() && len as usize <= tail.len()),
            Ok(None) => prop_assert!(len as usize > tail.len() && len as usize <= MAX_FRAME_PAYLOAD),
            Err(e) => prop_assert_eq!(e, CodecError::TooLarge { code, len }),
        }
    }
}
