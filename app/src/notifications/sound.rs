//! The notification sound: a short two-tone chime synthesised with Web
//! Audio (no audio file to fetch, nothing for the CSP to allow).
//!
//! One `AudioContext` per page, created on first use. Browsers start a
//! context created without a user gesture suspended; `resume()` is asked
//! for on every chime, so sound works once the user has interacted with the
//! page (turning the toggle on is such a gesture).

use std::cell::RefCell;

use leptos::logging::warn;
use leptos::prelude::window;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AudioContext;

/// The Web Lock whose holder is the tab that chimes.
const CHIME_LOCK: &str = "hibiki.chime";

/// Elects one tab per browser to play the chime: every tab asks for the
/// same Web Lock (`navigator.locks`, which the browser arbitrates across
/// tabs and processes) and holds it until it closes; the holder is the
/// chiming tab, and when it closes the lock passes to the next tab in line.
/// `on_elected` runs when this tab gets it. Without Web Locks (an old
/// browser), every tab chimes.
pub(super) fn elect_chime_tab(on_elected: impl Fn() + Clone + 'static) {
    // Read through Reflect: web-sys marks the Locks API unstable.
    let navigator = js_sys::Reflect::get(&window(), &"navigator".into()).ok();
    let locks = navigator.and_then(|n| js_sys::Reflect::get(&n, &"locks".into()).ok());
    let locks = locks.filter(|l| !l.is_undefined());
    let request = locks.as_ref().and_then(|locks| {
        js_sys::Reflect::get(locks, &"request".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    });
    let (Some(locks), Some(request)) = (locks, request) else {
        on_elected();
        return;
    };
    let elected = on_elected.clone();
    let granted = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |_lock: JsValue| {
        elected();
        // Never settles: the lock is held for the page's lifetime.
        js_sys::Promise::new(&mut |_resolve, _reject| {})
    });
    if let Err(e) = request.call2(&locks, &CHIME_LOCK.into(), granted.as_ref()) {
        warn!("notifications: no tab election ({e:?}); this tab chimes");
        on_elected();
    }
    // Called by the browser whenever the lock comes to this tab, which may
    // be long after now: it lives as long as the page.
    granted.forget();
}

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
