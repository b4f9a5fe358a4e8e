//! The command loop: frames in, engine, frames out. An idle stub halts with
//! interrupts on; the channel interrupt wakes it.
//!
//! Until the host sends Start the stub serves an ephemeral TPM (manufactured at
//! the first command, never saved). After Start and StateLoad it runs the
//! loaded (or newly manufactured) TPM and hands out its permanent state only
//! sealed (AES-256-GCM under the state key from Start), before the response of
//! every command that changed it.

use alloc::string::String;
use alloc::vec::Vec;

use vtpm_core::{Isolation, Tpm};
use vtpm_proto::frame::{self, ErrorCode, Message, Receiver, StartParams, MAX_FRAME};
use vtpm_proto::{envelope, Header, InstanceId, Kind, NONCE_LEN};
use x86_64::instructions::interrupts;
use zeroize::Zeroizing;

use crate::channel::Channel;
use crate::cpu;
use crate::interrupts::{arm_timer, disarm_timer, timer_fired};
use crate::platform::StubPlatform;
use crate::{memory, serial};

/// What Start set up: the key state is sealed under and the state's identity.
struct Sealing {
    key: Zeroizing<[u8; 32]>,
    instance: InstanceId,
    /// Sequence number of the permanent state the engine runs (0: none yet).
    sequence: u64,
    min_sequence: u64,
}

/// The engine with its platform and the channel.
struct Stub {
    channel: Channel,
    platform: StubPlatform,
    /// The engine; `None` until the first command (ephemeral) or StateLoad.
    tpm: Option<Tpm>,
    sealing: Option<Sealing>,
    out: Vec<u8>,
}

impl Stub {
    fn send(&mut self, message: &Message<'_>, sequence: u32) {
        self.out.clear();
        match message.encode(sequence, &mut self.out) {
            Ok(()) => self.channel.send(&self.out),
            Err(e) => log::error!("cannot frame a {:?}: {e}", message.frame_type()),
        }
    }

    fn refuse(&mut self, sequence: u32, code: ErrorCode, text: &str) {
        log::warn!("refusing frame {sequence}: {text}");
        self.send(&Message::Error { code, text }, sequence);
    }

    /// Seals the engine's state of `kind` at the current sequence.
    fn seal(&mut self, kind: Kind) -> Option<Vec<u8>> {
        let sealing = self.sealing.as_ref()?;
        let tpm = self.tpm.as_ref()?;
        let body = Zeroizing::new(match kind {
            Kind::Permanent => tpm.permanent_state(),
            Kind::Volatile => tpm.volatile_state(&mut self.platform),
        });
        let mut nonce = [0u8; NONCE_LEN];
        vtpm_core::Platform::entropy(&mut self.platform, &mut nonce);
        let header = Header {
            kind,
            instance: sealing.instance,
            sequence: sealing.sequence,
        };
        match envelope::seal(&header, &sealing.key, &nonce, &body) {
            Ok(blob) => Some(blob),
            Err(e) => {
                log::error!("cannot seal {kind} state: {e}");
                None
            }
        }
    }

    /// Sends the sealed state of `kind` as a StateSaveReply, or an Error.
    fn send_sealed(&mut self, seq: u32, kind: Kind) {
        match self.seal(kind) {
            Some(blob) => self.send(&Message::StateSaveReply(&blob), seq),
            None => self.refuse(seq, ErrorCode::Failed, "cannot seal the state"),
        }
    }

    fn start(&mut self, seq: u32, p: &StartParams<'_>) {
        if self.sealing.is_some() {
            return self.refuse(seq, ErrorCode::Unsupported, "already started");
        }
        self.platform.mix_host_entropy(p.entropy);
        self.sealing = Some(Sealing {
            key: Zeroizing::new(*p.state_key),
            instance: InstanceId(p.instance),
            sequence: 0,
            min_sequence: p.min_sequence,
        });
        // An ephemeral TPM from before Start is dropped: state comes from
        // StateLoad now.
        self.tpm = None;
        log::info!(
            "started: instance {}, host clock {} ms, lowest state sequence {}",
            InstanceId(p.instance),
            p.wall_clock_ms,
            p.min_sequence
        );
        self.send(
            &Message::Ready {
                version: crate::VERSION,
            },
            seq,
        );
    }

    /// Loads sealed volatile state into the running engine; it must belong to
    /// this instance and to the permanent state the engine runs or an earlier
    /// one (a stop in between may have saved NV, e.g. an automatic
    /// TPM2_Shutdown). Binding a volatile blob to a single use is left to the
    /// root manager's migration protocol.
    fn load_volatile(&mut self, seq: u32, blob: &[u8]) {
        let (Some(sealing), Some(tpm)) = (self.sealing.as_ref(), self.tpm.as_mut()) else {
            return self.refuse(seq, ErrorCode::Unsupported, "no state loaded yet");
        };
        let opened = match envelope::open(blob, &sealing.key) {
            Ok(o) => o,
            Err(e) => {
                let text = alloc::format!("refused sealed volatile state: {e}");
                return self.refuse(seq, ErrorCode::Failed, &text);
            }
        };
        let h = opened.header;
        if h.instance != sealing.instance || h.sequence > sealing.sequence {
            let text = alloc::format!(
                "refused sealed volatile state: it belongs to instance {} state {}, the TPM runs instance {} state {}",
                h.instance,
                h.sequence,
                sealing.instance,
                sealing.sequence
            );
            return self.refuse(seq, ErrorCode::Failed, &text);
        }
        if let Err(e) = tpm.load_volatile_state(&mut self.platform, &opened.plaintext) {
            let text = alloc::format!("refused sealed volatile state: {e}");
            return self.refuse(seq, ErrorCode::Failed, &text);
        }
        log::info!("loaded sealed volatile state");
        self.send(
            &Message::Ready {
                version: crate::VERSION,
            },
            seq,
        );
    }

    fn load(&mut self, seq: u32, blob: &[u8]) {
        if self.tpm.is_some()
            && vtpm_proto::decode_sealed(blob).is_ok_and(|e| e.header.kind == Kind::Volatile)
        {
            return self.load_volatile(seq, blob);
        }
        let Some(sealing) = self.sealing.as_mut() else {
            return self.refuse(seq, ErrorCode::Unsupported, "StateLoad needs Start first");
        };
        if self.tpm.is_some() {
            return self.refuse(seq, ErrorCode::Unsupported, "state is already loaded");
        }
        let mut tpm = if blob.is_empty() {
            // Above every state the host has known, so it never collides with one.
            sealing.sequence = sealing.min_sequence.saturating_add(1);
            log::info!(
                "manufacturing a new TPM (state sequence {})",
                sealing.sequence
            );
            Tpm::manufacture(&mut self.platform)
        } else {
            let opened = match envelope::open(blob, &sealing.key) {
                Ok(o) => o,
                Err(e) => {
                    let text = alloc::format!("refused sealed state: {e}");
                    return self.refuse(seq, ErrorCode::Failed, &text);
                }
            };
            let h = opened.header;
            let refusal = if h.kind != Kind::Permanent {
                Some(alloc::format!(
                    "refused sealed state: it holds {} state",
                    h.kind
                ))
            } else if h.instance != sealing.instance {
                Some(alloc::format!(
                    "refused sealed state: it belongs to instance {}, not {}",
                    h.instance,
                    sealing.instance
                ))
            } else if h.sequence < sealing.min_sequence {
                Some(alloc::format!(
                    "refused sealed state: sequence {} is older than the lowest acceptable {} (rollback)",
                    h.sequence,
                    sealing.min_sequence
                ))
            } else {
                None
            };
            if let Some(text) = refusal {
                return self.refuse(seq, ErrorCode::Failed, &text);
            }
            match Tpm::from_permanent_state(&opened.plaintext) {
                Ok(t) => {
                    sealing.sequence = h.sequence;
                    log::info!("loaded sealed state (sequence {})", h.sequence);
                    t
                }
                Err(e) => {
                    let text =
                        alloc::format!("refused sealed state: the engine cannot load it: {e}");
                    return self.refuse(seq, ErrorCode::Failed, &text);
                }
            }
        };
        tpm.set_isolation(Isolation::Vm);
        tpm.power_on(&mut self.platform);
        self.tpm = Some(tpm);
        self.send_sealed(seq, Kind::Permanent);
    }

    fn command(&mut self, seq: u32, locality: u8, command: &[u8]) {
        if self.tpm.is_none() {
            if self.sealing.is_some() {
                return self.refuse(seq, ErrorCode::Unsupported, "no state loaded yet");
            }
            log::info!("no Start frame: serving an ephemeral TPM (never saved)");
            let mut tpm = Tpm::manufacture(&mut self.platform);
            tpm.set_isolation(Isolation::Vm);
            tpm.power_on(&mut self.platform);
            self.tpm = Some(tpm);
        }
        let Some(tpm) = self.tpm.as_mut() else {
            return;
        };
        let response = tpm.execute(&mut self.platform, locality, command);
        memory::check_stack();
        if response.nv_changed {
            if let Some(sealing) = self.sealing.as_mut() {
                sealing.sequence = sealing.sequence.saturating_add(1);
                match self.seal(Kind::Permanent) {
                    Some(blob) => self.send(&Message::StateSaveReply(&blob), seq),
                    None => {
                        // The response must not leave before its state: the host
                        // answers the command with a failure and restarts.
                        return self.refuse(seq, ErrorCode::Failed, "cannot seal the new state");
                    }
                }
            }
        }
        self.send(&Message::TpmResponse(&response.bytes), seq);
    }

    /// The platform's H-CRTM/D-RTM hash signals, acknowledged in order.
    fn signal(&mut self, seq: u32, kind: frame::SignalKind, data: &[u8]) {
        let Some(tpm) = self.tpm.as_mut() else {
            return self.refuse(seq, ErrorCode::Unsupported, "no TPM to signal yet");
        };
        match kind {
            frame::SignalKind::HashStart => tpm.hash_start(),
            frame::SignalKind::HashData => tpm.hash_data(data),
            frame::SignalKind::HashEnd => tpm.hash_end(),
        }
        self.send(&Message::Signal { kind, data: &[] }, seq);
    }

    /// Handles one well-formed frame.
    fn handle(&mut self, frame: &frame::Frame<'_>) {
        let seq = frame.sequence;
        let message = match Message::parse(frame) {
            Ok(m) => m,
            Err(e) => return self.refuse(seq, e.code(), "malformed payload"),
        };
        match message {
            Message::Hello => self.send(
                &Message::Ready {
                    version: crate::VERSION,
                },
                seq,
            ),
            Message::Start(p) => self.start(seq, &p),
            Message::TpmCommand { locality, command } => self.command(seq, locality, command),
            // Commands run to completion before the next frame is read, so there
            // is never a command in progress to cancel.
            Message::Cancel => {}
            Message::Signal { kind, data } => self.signal(seq, kind, data),
            Message::StateSaveRequest(kind) => {
                if self.sealing.is_none() || self.tpm.is_none() {
                    return self.refuse(
                        seq,
                        ErrorCode::Unsupported,
                        "state save needs Start and StateLoad first",
                    );
                }
                let kind = match kind {
                    frame::StateKind::Permanent => Kind::Permanent,
                    frame::StateKind::Volatile => Kind::Volatile,
                };
                self.send_sealed(seq, kind);
            }
            Message::StateLoad(blob) => self.load(seq, blob),
            Message::Shutdown => {
                log::info!(
                    "shutdown requested; stack high water {} KiB",
                    memory::stack_high_water() / 1024
                );
                cpu::stop(cpu::ExitCode::Shutdown)
            }
            Message::Ready { .. }
            | Message::TpmResponse(_)
            | Message::StateSaveReply(_)
            | Message::Log { .. }
            | Message::Error { .. } => self.refuse(
                seq,
                ErrorCode::Unsupported,
                "frame type not accepted by the stub",
            ),
        }
    }

    /// Sends the queued warnings and errors as Log frames (sequence 0).
    fn forward_log(&mut self) {
        let mut lines = Vec::new();
        serial::take_host_lines(|level, text| lines.push((level, String::from(text))));
        for (level, text) in &lines {
            self.send(
                &Message::Log {
                    level: *level,
                    text,
                },
                0,
            );
        }
    }

    /// Handles every complete frame in `rx`. On garbage, answers an Error frame
    /// (the receiver has dropped everything buffered).
    fn drain(&mut self, rx: &mut Receiver) {
        rx.drain(|r| match r {
            Ok(f) => self.handle(&f),
            Err(e) => {
                log::warn!("dropped buffered input: {e}");
                self.send(
                    &Message::Error {
                        code: e.code(),
                        text: "not a frame",
                    },
                    0,
                );
            }
        });
    }
}

/// Announces Ready and serves frames forever. `boot_tsc` is the TSC at kernel
/// entry (for the boot-time log line).
pub fn run(channel: Channel, platform: StubPlatform, boot_tsc: u64) -> ! {
    let mut stub = Stub {
        channel,
        platform,
        tpm: None,
        sealing: None,
        out: Vec::with_capacity(MAX_FRAME),
    };
    stub.send(
        &Message::Ready {
            version: crate::VERSION,
        },
        0,
    );
    log::info!(
        "serving TPM commands ({} ms after kernel entry)",
        stub.platform.ms_since(boot_tsc)
    );
    let mut rx = Receiver::new();
    loop {
        stub.forward_log();
        if wait_for_input(&mut stub.channel, &mut rx) {
            stub.drain(&mut rx);
        } else {
            drop_partial(&mut rx, |m| stub.send(m, 0));
        }
    }
}

/// How long the rest of a started frame may take to arrive. The host sends a
/// frame in one go, so a longer gap means a partial frame will never be
/// completed (the host reconnected, or sent garbage with a plausible header).
const PARTIAL_FRAME_TIMEOUT_MS: u32 = 1000;

/// Returns once the host has sent bytes (now in `rx`), or with `false` once a
/// partial frame in `rx` has waited [`PARTIAL_FRAME_TIMEOUT_MS`] without a new
/// byte. Halts in between; interrupts are on when it returns.
fn wait_for_input(channel: &mut Channel, rx: &mut Receiver) -> bool {
    let mut armed = false;
    loop {
        interrupts::disable();
        if channel.receive(rx) > 0 {
            if armed {
                disarm_timer();
            }
            interrupts::enable();
            return true;
        }
        if rx.buffered() > 0 {
            if timer_fired() {
                interrupts::enable();
                return false;
            }
            if !armed {
                arm_timer(PARTIAL_FRAME_TIMEOUT_MS);
                armed = true;
            }
        }
        cpu::wait_for_interrupt();
    }
}

/// Drops a partial frame that timed out and tells the host.
fn drop_partial(rx: &mut Receiver, send: impl FnOnce(&Message<'_>)) {
    log::warn!(
        "dropped a partial frame of {} bytes (timed out)",
        rx.buffered()
    );
    rx.clear();
    send(&Message::Error {
        code: ErrorCode::Malformed,
        text: "incomplete frame timed out",
    });
}

/// When the engine cannot run: answers every frame (and garbage) with an Error
/// frame that says why, so the host learns the reason; never returns.
pub fn refuse_forever(mut channel: Channel, reason: &str) -> ! {
    let mut rx = Receiver::new();
    let mut out = Vec::new();
    loop {
        if !wait_for_input(&mut channel, &mut rx) {
            rx.clear();
            continue;
        }
        rx.drain(|r| {
            let sequence = r.map_or(0, |f| f.sequence);
            let error = Message::Error {
                code: ErrorCode::Failed,
                text: reason,
            };
            out.clear();
            if error.encode(sequence, &mut out).is_ok() {
                channel.send(&out);
            }
        });
    }
}
