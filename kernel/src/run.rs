//! The command loop: frames in, engine, frames out. An idle stub halts with
//! interrupts on; the channel interrupt wakes it.
//!
//! State lives in memory only for now: Save/Load requests are refused until
//! sealed state exists (the design never lets unsealed state leave the stub).

use alloc::string::String;
use alloc::vec::Vec;

use vtpm_core::{Isolation, Tpm};
use vtpm_proto::frame::{self, ErrorCode, Message, Receiver, MAX_FRAME};
use x86_64::instructions::interrupts;

use crate::channel::Channel;
use crate::cpu;
use crate::interrupts::{arm_timer, disarm_timer, timer_fired};
use crate::platform::StubPlatform;
use crate::{memory, serial};

/// The engine with its platform and the channel.
struct Stub {
    channel: Channel,
    platform: StubPlatform,
    tpm: Tpm,
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
            Message::TpmCommand { locality, command } => {
                let response = self.tpm.execute(&mut self.platform, locality, command);
                if response.nv_changed {
                    log::debug!("permanent state changed (kept in memory)");
                }
                memory::check_stack();
                self.send(&Message::TpmResponse(&response.bytes), seq);
            }
            // Commands run to completion before the next frame is read, so there
            // is never a command in progress to cancel.
            Message::Cancel => {}
            Message::StateSaveRequest(_) | Message::StateLoad(_) => {
                self.refuse(seq, ErrorCode::Unsupported, "state save/load needs sealing")
            }
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

/// Manufactures and powers on the engine, announces Ready and serves frames
/// forever. `boot_tsc` is the TSC at kernel entry (for the boot-time log line).
pub fn run(channel: Channel, mut platform: StubPlatform, boot_tsc: u64) -> ! {
    let mut tpm = Tpm::manufacture(&mut platform);
    tpm.set_isolation(Isolation::Vm);
    tpm.power_on(&mut platform);
    let mut stub = Stub {
        channel,
        platform,
        tpm,
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
