//! The notification sound: a short two-tone chime synthesised with Web
//! Audio (no audio file to fetch, nothing for the CSP to allow).
//!
//! One `AudioContext` per page, created on first use. Browsers start a
//! context created without a user gesture suspended; `resume()` is asked
//! for on every chime, so sound works once the user has interacted with the
//! page (turning the toggle on is such a gesture).

use std::cell::RefCell;

use leptos::logging::warn;
use wasm_bindgen::JsValue;
use web_sys::AudioContext;

thread_local! {
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

/// Plays the chime; failures (no Web Audio, blocked) are logged, not shown.
pub(super) fn chime() {
    if let Err(e) = try_chime() {
        warn!("notifications: cannot play the sound: {e:?}");
    }
}

/// Creates (or resumes) the context while handling a user gesture, so that
/// later chimes, which run without one, are audible.
pub(super) fn unlock() {
    match context() {
        Ok(ctx) => {
            let _ = ctx.resume();
        }
        Err(e) => warn!("notifications: no Web Audio: {e:?}"),
    }
}

/// The page's context, created on first use.
fn context() -> Result<AudioContext, JsValue> {
    CONTEXT.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some(ctx) = slot.as_ref() {
            return Ok(ctx.clone());
        }
        let ctx = AudioContext::new()?;
        *slot = Some(ctx.clone());
        Ok(ctx)
    })
}

fn try_chime() -> Result<(), JsValue> {
    let ctx = context()?;
    // A rejected promise (no gesture yet) only means silence.
    let _ = ctx.resume();
    let start = ctx.current_time();
    for (i, freq) in [880.0_f32, 1320.0].into_iter().enumerate() {
        let at = start + 0.12 * i as f64;
        let osc = ctx.create_oscillator()?;
        osc.frequency().set_value_at_time(freq, at)?;
        let gain = ctx.create_gain()?;
        // A quick attack and an exponential fade: a soft "ding", no click.
        gain.gain().set_value_at_time(0.0001, at)?;
        gain.gain()
            .exponential_ramp_to_value_at_time(0.15, at + 0.01)?;
        gain.gain()
            .exponential_ramp_to_value_at_time(0.0001, at + 0.25)?;
        osc.connect_with_audio_node(&gain)?;
        gain.connect_with_audio_node(&ctx.destination())?;
        osc.start_with_when(at)?;
        osc.stop_with_when(at + 0.3)?;
    }
    Ok(())
}
