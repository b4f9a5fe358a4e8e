use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn setup_args(list: &[&str]) -> SetupArgs {
    match parse(&args(list)).unwrap() {
        SetupCommand::Setup(a) => *a,
        other => panic!("{other:?}"),
    }
}

#[test]
fn libvirt_command_line_parses() {
    let a = setup_args(&[
        "--tpm2",
        "--tpm-state",
        "/var/lib/libvirt/swtpm/u/tpm2",
        "--vmid",
        "guest:6b1ea5fd-7b4f-4c43-9c8a-0d4b3b7c2a11",
        "--logfile",
        "/var/log/swtpm/libvirt/qemu/guest-swtpm.log",
        "--createek",
        "--create-ek-cert",
        "--create-platform-cert",
        "--lock-nvram",
        "--not-overwrite",
        "--pcr-banks",
        "sha256,sha384",
    ]);
    assert!(a.tpm2 && a.create_ek && a.ek_cert && a.platform_cert && a.lock_nvram);
    assert!(a.not_overwrite && !a.overwrite);
    assert_eq!(a.state_dir, PathBuf::from("/var/lib/libvirt/swtpm/u/tpm2"));
    assert_eq!(a.pcr_banks, vec![Bank::Sha256, Bank::Sha384]);
    let id = instance_for(a.vmid.as_deref()).unwrap();
    assert_eq!(id.to_string(), "6b1ea5fd-7b4f-4c43-9c8a-0d4b3b7c2a11");
}

#[test]
fn defaults_and_forms() {
    let a = setup_args(&["--tpm2", "--tpmstate=dir:///s"]);
    assert_eq!(a.state_dir, PathBuf::from("/s"));
    assert_eq!(a.pcr_banks, vec![Bank::Sha256]);
    assert!(!a.create_ek);
    // A certificate needs the EK.
    assert!(setup_args(&["--tpm2", "--tpmstate", "/s", "--create-ek-cert"]).create_ek);
    assert_eq!(
        parse(&args(&["--print-capabilities"])).unwrap(),
        SetupCommand::PrintCapabilities
    );
}

#[test]
fn errors_name_the_problem() {
    let err = |list: &[&str]| parse(&args(list)).unwrap_err();
    assert!(err(&["--tpmstate", "/s"]).contains("--tpm2"));
    assert!(err(&["--tpm2"]).contains("--tpmstate"));
    assert!(err(&["--tpm2", "--tpmstate", "/s", "--bogus"]).contains("--bogus"));
    assert!(err(&["--tpm2", "--tpmstate", "/s", "--pcr-banks", "md5"]).contains("md5"));
    assert!(err(&["--tpm2", "--tpmstate", "/s", "--rsa-keysize", "3072"]).contains("3072"));
    assert!(err(&["--tpm2", "--tpmstate"]).contains("needs a value"));
    assert!(err(&["--tpm2", "--tpmstate", "file:///x"]).contains("file://"));
    assert!(err(&[
        "--tpm2",
        "--tpmstate",
        "/s",
        "--overwrite",
        "--not-overwrite"
    ])
    .contains("exclude"));
    assert!(err(&["--tpm2", "--tpmstate", "/s", "--take-ownership"]).contains("1.2"));
}

#[test]
fn ek_templates_have_the_profile_layout() {
    let rsa = ek_template(false, false, false);
    // type, nameAlg, attributes 0x000300B2, 32-byte policy, AES-128-CFB, NULL,
    // 2048 bits, exponent 0, 256-byte unique.
    assert_eq!(&rsa[..8], &[0, 1, 0, 0x0B, 0, 0x03, 0, 0xB2]);
    assert_eq!(rsa.len(), 2 + 2 + 4 + 2 + 32 + 6 + 2 + 2 + 4 + 2 + 256);
    let ecc = ek_template(true, false, false);
    assert_eq!(&ecc[..8], &[0, 0x23, 0, 0x0B, 0, 0x03, 0, 0xB2]);
    assert_eq!(ecc.len(), 2 + 2 + 4 + 2 + 32 + 6 + 2 + 2 + 2 + 34 + 34);
    // A signing EK is not restricted and has no symmetric algorithm.
    let sign = ek_template(false, true, false);
    assert_eq!(&sign[4..8], &0x0004_00B2u32.to_be_bytes());
    assert_eq!(&sign[42..44], &[0, 0x10]);
}
