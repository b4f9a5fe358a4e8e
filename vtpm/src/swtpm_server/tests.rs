use super::*;
use crate::platform::HostPlatform;
use crate::store::StateDir;
use vtpm_core::Tpm;
use vtpm_proto::InstanceId;

fn front(dir: &std::path::Path, startup: StartupMode) -> Arc<Front> {
    let mut platform = HostPlatform::new();
    let mut tpm = Tpm::manufacture(&mut platform);
    tpm.power_on(&mut platform);
    let store = StateDir::open(dir).unwrap();
    let engine = Engine::new(tpm, platform, store, InstanceId::from_random([7; 16]));
    Front::new(
        engine,
        FrontOptions {
            startup,
            auto_shutdown: true,
            ..FrontOptions::default()
        },
    )
}

fn ctl(f: &Front, req: CtrlRequest<'_>) -> Vec<u8> {
    f.control(&req).0
}

fn result_of(r: &[u8]) -> u32 {
    u32::from_be_bytes(r[0..4].try_into().unwrap())
}

const PCR_EXTEND_16: [u8; 65] = {
    let mut c = [0u8; 65];
    let head: [u8; 33] = [
        0x80, 0x02, 0, 0, 0, 65, 0, 0, 0x01, 0x82, 0, 0, 0, 16, 0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0,
        0, 0, 0, 0, 0, 1, 0, 0x0B,
    ];
    let mut i = 0;
    while i < 33 {
        c[i] = head[i];
        i += 1;
    }
    c[64] = 0x5a;
    c
};

/// PCR_Read(sha256: 16) -> the 32-byte value.
fn pcr16(f: &Front) -> Vec<u8> {
    let cmd = [
        0x80, 0x01, 0, 0, 0, 20, 0, 0, 0x01, 0x7E, 0, 0, 0, 1, 0, 0x0B, 3, 0, 0, 1,
    ];
    let r = f.execute(&cmd, None);
    assert_eq!(rc_of(&r), 0);
    r[r.len() - 32..].to_vec()
}

#[test]
fn capabilities_cover_what_qemu_requires() {
    let td = tempfile::tempdir().unwrap();
    let f = front(td.path(), StartupMode::NeedInit);
    let r = ctl(&f, CtrlRequest::GetCapability);
    assert_eq!(result_of(&r), 0);
    let caps = u32::from_be_bytes(r[4..8].try_into().unwrap());
    assert_eq!(caps & 0x348F, 0x348F, "QEMU's TPM 2 minimum");
    assert_eq!(caps & 0x700, 0x700, "migration needs state blobs and STOP");
}

#[test]
fn data_channel_needs_init_and_honours_locality() {
    let td = tempfile::tempdir().unwrap();
    let f = front(td.path(), StartupMode::NeedInit);
    let startup = startup_command(0);
    assert_eq!(rc_of(&f.execute(&startup, None)), 0x101);
    assert_eq!(
        result_of(&ctl(&f, CtrlRequest::GetTpmEstablished)),
        res::BAD_ORDINAL
    );
    assert_eq!(result_of(&ctl(&f, CtrlRequest::Init(0))), 0);
    assert_eq!(rc_of(&f.execute(&startup, None)), 0);
    // PCR 21 may be reset from locality 2, not 0 (PC Client).
    let reset21 = [
        0x80, 0x02, 0, 0, 0, 27, 0, 0, 0x01, 0x3D, 0, 0, 0, 21, 0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 1,
        0, 0,
    ];
    assert_ne!(rc_of(&f.execute(&reset21, None)), 0);
    assert_eq!(result_of(&ctl(&f, CtrlRequest::SetLocality(2))), 0);
    assert_eq!(rc_of(&f.execute(&reset21, None)), 0);
    assert_eq!(
        result_of(&ctl(&f, CtrlRequest::SetLocality(5))),
        res::BAD_LOCALITY
    );
    let r = ctl(&f, CtrlRequest::GetTpmEstablished);
    assert_eq!(r, [0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        result_of(&ctl(&f, CtrlRequest::ResetTpmEstablished(0))),
        res::BAD_LOCALITY
    );
    assert_eq!(result_of(&ctl(&f, CtrlRequest::ResetTpmEstablished(3))), 0);
    // STOP: commands fail until the next INIT.
    assert_eq!(result_of(&ctl(&f, CtrlRequest::Stop)), 0);
    assert_eq!(rc_of(&f.execute(&startup, None)), 0x101);
}

#[test]
fn buffer_size_is_negotiated_while_stopped() {
    let td = tempfile::tempdir().unwrap();
    let f = front(td.path(), StartupMode::NotNeedInit);
    let r = ctl(&f, CtrlRequest::SetBufferSize(0));
    assert_eq!(r, ctrl::response(0, &[4096, MIN_BUFFER, MAX_BUFFER], &[]));
    assert_eq!(
        result_of(&ctl(&f, CtrlRequest::SetBufferSize(2048))),
        res::BAD_ORDINAL
    );
    ctl(&f, CtrlRequest::Stop);
    let r = ctl(&f, CtrlRequest::SetBufferSize(100_000));
    assert_eq!(&r[4..8], &4096u32.to_be_bytes());
    let r = ctl(&f, CtrlRequest::SetBufferSize(2048));
    assert_eq!(&r[4..8], &2048u32.to_be_bytes());
    ctl(&f, CtrlRequest::Init(0));
    // A command larger than the negotiated buffer is refused.
    let mut big = vec![0u8; 3000];
    big[0..2].copy_from_slice(&0x8001u16.to_be_bytes());
    big[2..6].copy_from_slice(&3000u32.to_be_bytes());
    assert_eq!(rc_of(&f.execute(&big, None)), 0x142);
}

#[test]
fn state_blobs_carry_a_running_tpm_to_another_front() {
    let td_a = tempfile::tempdir().unwrap();
    let td_b = tempfile::tempdir().unwrap();
    let a = front(td_a.path(), StartupMode::StartupClear);
    assert_eq!(rc_of(&a.execute(&PCR_EXTEND_16, None)), 0);
    let value = pcr16(&a);
    let get = |t: u32| {
        let r = ctl(
            &a,
            CtrlRequest::GetStateBlob {
                flags: 1,
                blob_type: t,
                offset: 0,
            },
        );
        assert_eq!(result_of(&r), 0);
        let n = u32::from_be_bytes(r[8..12].try_into().unwrap()) as usize;
        assert_eq!(r.len(), 16 + n);
        r[16..].to_vec()
    };
    let (perm, vol, save) = (get(1), get(2), get(3));
    assert!(!perm.is_empty() && !vol.is_empty() && save.is_empty());
    let b = front(td_b.path(), StartupMode::NeedInit);
    let set = |t: u32, data: &[u8]| {
        result_of(&ctl(
            &b,
            CtrlRequest::SetStateBlob {
                flags: 0,
                blob_type: t,
                data,
            },
        ))
    };
    assert_eq!(set(1, &perm), 0);
    assert_eq!(set(2, &vol), 0);
    assert_eq!(
        result_of(&ctl(&b, CtrlRequest::Init(ctrl::INIT_FLAG_DELETE_VOLATILE))),
        0
    );
    assert_eq!(pcr16(&b), value, "PCRs travel with the volatile blob");
    // Refusals: running TPM, garbage, unknown type, encrypted.
    assert_eq!(set(1, &perm), res::BAD_ORDINAL);
    ctl(&b, CtrlRequest::Stop);
    assert_eq!(set(1, b"garbage"), res::FAIL);
    assert_eq!(set(9, &perm), res::BAD_PARAMETER);
    let r = ctl(
        &b,
        CtrlRequest::SetStateBlob {
            flags: ctrl::STATE_FLAG_ENCRYPTED,
            blob_type: 1,
            data: &perm,
        },
    );
    assert_eq!(result_of(&r), res::BAD_PARAMETER);
    // A volatile blob that does not parse is refused at INIT.
    assert_eq!(set(2, b"garbage"), 0);
    assert_eq!(result_of(&ctl(&b, CtrlRequest::Init(0))), res::FAIL);
}

#[test]
fn get_info_and_offsets() {
    let td = tempfile::tempdir().unwrap();
    let f = front(td.path(), StartupMode::NotNeedInit);
    let r = ctl(
        &f,
        CtrlRequest::GetInfo {
            flags: 3,
            offset: 0,
        },
    );
    let total = u32::from_be_bytes(r[4..8].try_into().unwrap()) as usize;
    let text = std::str::from_utf8(&r[12..12 + total - 1]).unwrap();
    assert!(text.contains("\"family\":\"2.0\""), "{text}");
    assert!(text.contains("\"model\":\"vtpm\""), "{text}");
    let r = ctl(
        &f,
        CtrlRequest::GetInfo {
            flags: 3,
            offset: 10,
        },
    );
    assert_eq!(
        &r[12..],
        &text.as_bytes()[10..]
            .iter()
            .chain([0u8].iter())
            .copied()
            .collect::<Vec<_>>()[..]
    );
}

#[test]
fn data_frames() {
    assert_eq!(take_command(&[0x80]).unwrap(), None);
    let cmd = startup_command(0);
    assert_eq!(
        take_command(&cmd).unwrap(),
        Some((&cmd[..], None, 12, false))
    );
    let mut framed = vec![0, 0, 0, 8, 3, 0, 0, 0, 12];
    framed.extend_from_slice(&cmd);
    assert_eq!(
        take_command(&framed).unwrap(),
        Some((&cmd[..], Some(3), framed.len(), true))
    );
    assert!(take_command(&[0, 0, 0, 9, 0, 0, 0, 0, 0]).is_err());
    assert!(take_command(&[0x80, 0x01, 0xff, 0xff, 0xff, 0xff]).is_err());
}
