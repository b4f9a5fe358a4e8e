use super::*;

fn msg(cmd: u32, body: &[u8]) -> Vec<u8> {
    let mut v = cmd.to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

#[test]
fn every_command_decodes_and_waits_for_its_whole_body() {
    let blob = [9u8; 5];
    let mut set_blob = Vec::new();
    for x in [1u32, 2, 5] {
        set_blob.extend_from_slice(&x.to_be_bytes());
    }
    set_blob.extend_from_slice(&blob);
    let mut hash = 3u32.to_be_bytes().to_vec();
    hash.extend_from_slice(b"abc");
    let mut get_blob = Vec::new();
    for x in [1u32, 3, 7] {
        get_blob.extend_from_slice(&x.to_be_bytes());
    }
    let mut info = 3u64.to_be_bytes().to_vec();
    info.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 0]);
    let cases: Vec<(Vec<u8>, CtrlRequest<'_>)> = vec![
        (msg(1, &[]), CtrlRequest::GetCapability),
        (msg(2, &[0, 0, 0, 1]), CtrlRequest::Init(1)),
        (msg(3, &[]), CtrlRequest::Shutdown),
        (msg(4, &[]), CtrlRequest::GetTpmEstablished),
        (msg(5, &[3, 0, 0, 0]), CtrlRequest::SetLocality(3)),
        (msg(6, &[]), CtrlRequest::HashStart),
        (msg(7, &hash), CtrlRequest::HashData(b"abc")),
        (msg(8, &[]), CtrlRequest::HashEnd),
        (msg(9, &[]), CtrlRequest::CancelTpmCmd),
        (msg(10, &[]), CtrlRequest::StoreVolatile),
        (msg(11, &[4, 0, 0, 0]), CtrlRequest::ResetTpmEstablished(4)),
        (
            msg(12, &get_blob),
            CtrlRequest::GetStateBlob {
                flags: 1,
                blob_type: 3,
                offset: 7,
            },
        ),
        (
            msg(13, &set_blob),
            CtrlRequest::SetStateBlob {
                flags: 1,
                blob_type: 2,
                data: &blob,
            },
        ),
        (msg(14, &[]), CtrlRequest::Stop),
        (msg(15, &[]), CtrlRequest::GetConfig),
        (msg(16, &[]), CtrlRequest::SetDataFd),
        (msg(17, &[0, 0, 16, 0]), CtrlRequest::SetBufferSize(4096)),
        (
            msg(18, &info),
            CtrlRequest::GetInfo {
                flags: 3,
                offset: 9,
            },
        ),
        (msg(19, &[0, 0, 1, 44]), CtrlRequest::LockStorage(300)),
    ];
    for (bytes, want) in &cases {
        let (got, used) = decode(bytes).unwrap().unwrap();
        assert_eq!(&got, want);
        assert_eq!(used, bytes.len());
        // A locality may come as one byte (tpm2-tss) or four (QEMU).
        let min = match want {
            CtrlRequest::SetLocality(_) | CtrlRequest::ResetTpmEstablished(_) => 5,
            _ => bytes.len(),
        };
        for cut in 0..min {
            assert_eq!(
                decode(&bytes[..cut]).unwrap(),
                None,
                "{want:?} cut at {cut}"
            );
        }
        // Trailing bytes belong to the next message.
        let mut two = bytes.clone();
        two.extend_from_slice(&[1, 0, 0, 1]);
        assert_eq!(decode(&two).unwrap().unwrap().1, bytes.len());
    }
    let (got, used) = decode(&[0, 0, 0, 5, 2]).unwrap().unwrap();
    assert_eq!((got, used), (CtrlRequest::SetLocality(2), 5));
}

#[test]
fn unknown_codes_and_oversized_bodies_are_refused() {
    for c in [0u32, 0x14, 0xFFFF_FFFF] {
        let e = decode(&msg(c, &[])).unwrap_err();
        assert_eq!(e, CtrlError::UnknownCode(c));
        assert_eq!(e.result(), res::BAD_ORDINAL);
    }
    let e = decode(&msg(7, &u32::MAX.to_be_bytes())).unwrap_err();
    assert_eq!(e.result(), res::SIZE);
    let mut big = Vec::new();
    for x in [0u32, 1, (MAX_STATE_BLOB + 1) as u32] {
        big.extend_from_slice(&x.to_be_bytes());
    }
    assert!(matches!(
        decode(&msg(13, &big)),
        Err(CtrlError::TooLarge { code: 13, .. })
    ));
}

#[test]
fn responses() {
    assert_eq!(result(res::BAD_PARAMETER), [0, 0, 0, 3]);
    assert_eq!(
        response(0, &[1, 2], b"xy"),
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, b'x', b'y']
    );
}
