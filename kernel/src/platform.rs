//! The engine's platform inside the stub: entropy from RDRAND (mixed with host
//! entropy once the host has sent its Start frame), a millisecond clock from the
//! TSC.
//!
//! The TSC rate comes from CPUID (leaf 0x15 or 0x16) where the hypervisor tells
//! it, otherwise from timing the TSC against the local APIC timer, whose input
//! clock QEMU and KVM run at 1 GHz.

use sha2::{Digest, Sha256};
use x86_64::instructions::random::RdRand;
use zeroize::Zeroizing;

use crate::cpu;

/// RDRAND may fail transiently (the DRNG is reseeding); retry so often first.
const RDRAND_RETRIES: u32 = 32;

/// TSC rate assumed when neither CPUID nor the APIC timer gives one.
const FALLBACK_TSC_HZ: u64 = 1_000_000_000;

/// Input clock of the local APIC timer (QEMU and KVM: one tick per ns).
const APIC_TIMER_HZ: u64 = 1_000_000_000;

/// APIC timer ticks the calibration waits for (2 ms at 1 GHz).
const CALIBRATION_TICKS: u32 = 2_000_000;

/// Local APIC timer registers.
const LAPIC_BASE: u64 = 0xfee0_0000;
const LAPIC_LVT_TIMER: u64 = 0x320;
const LAPIC_TIMER_INITIAL: u64 = 0x380;
const LAPIC_TIMER_CURRENT: u64 = 0x390;
const LAPIC_TIMER_DIVIDE: u64 = 0x3e0;

/// Entropy and time for [`vtpm_core::Platform`].
pub struct StubPlatform {
    rdrand: RdRand,
    tsc_origin: u64,
    tsc_per_ms: u64,
    last_ms: u64,
    /// Host entropy from the Start frame; each 32-byte block of RDRAND output
    /// is XORed with SHA-256(seed || counter), so the output is unpredictable
    /// if either source is.
    host_seed: Option<Zeroizing<[u8; 32]>>,
    mix_counter: u64,
}

impl core::fmt::Debug for StubPlatform {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StubPlatform")
            .field("tsc_per_ms", &self.tsc_per_ms)
            .field("host_seed", &self.host_seed.as_ref().map(|_| "[set]"))
            .finish()
    }
}

impl StubPlatform {
    /// The platform, or `None` when the CPU has no RDRAND.
    pub fn new() -> Option<StubPlatform> {
        let rdrand = RdRand::new()?;
        let hz = tsc_hz_from_cpuid()
            .or_else(tsc_hz_from_apic_timer)
            .unwrap_or_else(|| {
                // SPEC-DEVIATION: without a known TSC rate, TPM time runs at a
                // nominal rate.
                log::warn!(
                    "TSC rate unknown; assuming {} MHz",
                    FALLBACK_TSC_HZ / 1_000_000
                );
                FALLBACK_TSC_HZ
            });
        log::info!("TSC {} kHz", hz / 1000);
        Some(StubPlatform {
            rdrand,
            tsc_origin: cpu::rdtsc(),
            tsc_per_ms: (hz / 1000).max(1),
            last_ms: 0,
            host_seed: None,
            mix_counter: 0,
        })
    }

    /// Mixes `seed` (host entropy) into all later entropy output.
    pub fn mix_host_entropy(&mut self, seed: &[u8; 32]) {
        let mut own = [0u8; 32];
        vtpm_core::Platform::entropy(self, &mut own);
        let mut h = Sha256::new();
        h.update(b"vtpm-stub host entropy");
        h.update(seed);
        h.update(own);
        self.host_seed = Some(Zeroizing::new(h.finalize().into()));
        zeroize::Zeroize::zeroize(&mut own);
    }

    /// Milliseconds since the TSC read `tsc`.
    pub fn ms_since(&self, tsc: u64) -> u64 {
        cpu::rdtsc().wrapping_sub(tsc) / self.tsc_per_ms
    }

    fn random_u64(&self) -> u64 {
        for _ in 0..RDRAND_RETRIES {
            if let Some(v) = self.rdrand.get_u64() {
                return v;
            }
        }
        // A TPM must never run on predictable randomness.
        log::error!("RDRAND failed {RDRAND_RETRIES} times in a row; stopping");
        cpu::stop(cpu::ExitCode::Fatal)
    }
}

impl vtpm_core::Platform for StubPlatform {
    fn entropy(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.random_u64().to_le_bytes();
            for (o, b) in chunk.iter_mut().zip(v.iter()) {
                *o = *b;
            }
        }
        if let Some(seed) = &self.host_seed {
            for chunk in buf.chunks_mut(32) {
                let mut h = Sha256::new();
                h.update(seed.as_slice());
                h.update(self.mix_counter.to_be_bytes());
                self.mix_counter = self.mix_counter.wrapping_add(1);
                let block = Zeroizing::new(<[u8; 32]>::from(h.finalize()));
                for (o, b) in chunk.iter_mut().zip(block.iter()) {
                    *o ^= *b;
                }
            }
        }
    }

    fn monotonic_ms(&mut self) -> u64 {
        let ms = cpu::rdtsc().wrapping_sub(self.tsc_origin) / self.tsc_per_ms;
        self.last_ms = self.last_ms.max(ms);
        self.last_ms
    }
}

/// The TSC rate measured against the local APIC timer (masked, one-shot, divide
/// by 1); call with interrupts off, before the APIC timer has another use.
fn tsc_hz_from_apic_timer() -> Option<u64> {
    let reg = |r: u64| LAPIC_BASE + r;
    // SAFETY: the LAPIC registers are mapped uncached (boot/pvh.S); the timer is
    // masked, so counting down raises no interrupt, and nothing else uses it.
    let (t0, t1, ticks) = unsafe {
        cpu::mmio_write32(reg(LAPIC_LVT_TIMER), 1 << 16);
        cpu::mmio_write32(reg(LAPIC_TIMER_DIVIDE), 0b1011);
        cpu::mmio_write32(reg(LAPIC_TIMER_INITIAL), u32::MAX);
        let c0 = cpu::mmio_read32(reg(LAPIC_TIMER_CURRENT));
        let t0 = cpu::rdtsc();
        let mut c1 = c0;
        // Bounded: a timer that does not count gives no rate.
        for _ in 0..100_000_000u32 {
            c1 = cpu::mmio_read32(reg(LAPIC_TIMER_CURRENT));
            if c0.saturating_sub(c1) >= CALIBRATION_TICKS {
                break;
            }
        }
        let t1 = cpu::rdtsc();
        cpu::mmio_write32(reg(LAPIC_TIMER_INITIAL), 0);
        (t0, t1, u64::from(c0.saturating_sub(c1)))
    };
    if ticks < u64::from(CALIBRATION_TICKS) {
        return None;
    }
    let tsc = u128::from(t1.wrapping_sub(t0));
    let hz = tsc * u128::from(APIC_TIMER_HZ) / u128::from(ticks);
    u64::try_from(hz).ok().filter(|&hz| hz >= 1_000_000)
}

/// The TSC rate from CPUID leaf 0x15 (crystal ratio) or 0x16 (base MHz).
fn tsc_hz_from_cpuid() -> Option<u64> {
    let max_leaf = cpuid(0).eax;
    if max_leaf >= 0x15 {
        let r = cpuid(0x15);
        if r.eax != 0 && r.ebx != 0 && r.ecx != 0 {
            return Some(u64::from(r.ecx) * u64::from(r.ebx) / u64::from(r.eax));
        }
    }
    if max_leaf >= 0x16 {
        let mhz = cpuid(0x16).eax & 0xffff;
        if mhz != 0 {
            return Some(u64::from(mhz) * 1_000_000);
        }
    }
    None
}

fn cpuid(leaf: u32) -> core::arch::x86_64::CpuidResult {
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86_64 CPU and only writes its output registers.
    unsafe {
        core::arch::x86_64::__cpuid(leaf)
    }
}
