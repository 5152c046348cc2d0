//! The login / register form: inline validation with the protocol's rules,
//! then a JSON POST; server errors land on the field they name.
//!
//! The submit button stays disabled until the page is hydrated, so a click
//! can never fall through to a native form post.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use protocol::http::{validate_password, validate_username};

/// Which form this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    Login,
    Register,
}

impl AuthMode {
    fn endpoint(self) -> &'static str {
        match self {
            Self::Login => "/api/auth/login",
            Self::Register => "/api/auth/register",
        }
    }
    fn submit_label(self) -> &'static str {
        match self {
            Self::Login => "Log in",
            Self::Register => "Create account",
        }
    }
}

/// Per-field messages and a form-level one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors {
    pub username: Option<String>,
    pub password: Option<String>,
    pub form: Option<String>,
}

impl FormErrors {
    fn any(&self) -> bool {
        self.username.is_some() || self.password.is_some() || self.form.is_some()
    }
}

/// The checks the browser can do before asking the server. Login only needs
/// both fields filled (an old account may predate today's rules).
pub fn validate(mode: AuthMode, username: &str, password: &str) -> FormErrors {
    let mut errors = FormErrors::default();
    match mode {
        AuthMode::Register => {
            errors.username = validate_username(username)
                .err()
                .map(|m| format!("Username {m}."));
            errors.password = validate_password(password)
                .err()
                .map(|m| format!("Password {m}."));
        }
        AuthMode::Login => {
            if username.trim().is_empty() {
                errors.username = Some("Enter your username.".into());
            }
            if password.is_empty() {
                errors.password = Some("Enter your password.".into());
            }
        }
    }
    errors
}

/// Places a server error: on the field it names, else on the form.
pub fn server_error(e: &protocol::ErrorPayload) -> FormErrors {
    let mut errors = FormErrors::default();
    let text = match e.code {
        protocol::ErrorCode::RateLimited => format!(
            "Too many attempts. Try again in {} s.",
            e.retry_after_ms.unwrap_or(1000).div_ceil(1000)
        ),
        _ => e.message.clone(),
    };
    match e.field.as_deref() {
        Some("username") => errors.username = Some(text),
        Some("password") => errors.password = Some(text),
        _ => errors.form = Some(text),
    }
    errors
}

#[component]
/// `next`: where to go once signed in (already checked to be a path on
/// this site).
pub fn AuthForm(mode: AuthMode, next: String) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let busy = RwSignal::new(false);
    // False on the server and until hydration; effects only run in the browser.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (name, pass) = (username.get_untracked(), password.get_untracked());
        let found = validate(mode, &name, &pass);
        errors.set(found.clone());
        if found.any() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        #[cfg(not(feature = "hydrate"))]
        let _ = &next;
        #[cfg(feature = "hydrate")]
        let next = next.clone();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let creds = protocol::http::Credentials {
                username: name.trim().to_owned(),
                password: pass,
            };
            match crate::api::post_json::<_, protocol::http::AuthResponse>(mode.endpoint(), &creds)
                .await
            {
                // The session cookie is set: load the page asked for (the
                // chat by default), rendered for this user.
                Ok(_) => {
                    let _ = window().location().assign(&next);
                }
                Err(e) => {
                    errors.set(server_error(&e));
                    busy.set(false);
                }
            }
        });
    };

    let field_error = move |pick: fn(&FormErrors) -> Option<String>| move || errors.with(pick);
    let invalid = move |pick: fn(&FormErrors) -> Option<String>| {
        move || errors.with(|e| pick(e).is_some()).then_some("true")
    };
    let (user_id, pass_id) = match mode {
        AuthMode::Login => ("login-username", "login-password"),
        AuthMode::Register => ("register-username", "register-password"),
    };
    let password_autocomplete = match mode {
        AuthMode::Login => "current-password",
        AuthMode::Register => "new-password",
    };

    view! {
        <form class="auth-form" method="post" action=mode.endpoint() on:submit=on_submit novalidate>
            <div class="auth-form__field">
                <label for=user_id>"Username"</label>
                <input
                    id=user_id
                    type="text"
                    name="username"
                    autocomplete="username"
                    required
                    aria-invalid=invalid(|e| e.username.clone())
                    aria-describedby=format!("{user_id}-error")
                    prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))
                />
                <p id=format!("{user_id}-error") class="auth-form__error">{field_error(|e| e.username.clone())}</p>
            </div>
            <div class="auth-form__field">
                <label for=pass_id>"Password"</label>
                <input
                    id=pass_id
                    type="password"
                    name="password"
                    autocomplete=password_autocomplete
                    required
                    aria-invalid=invalid(|e| e.password.clone())
                    aria-describedby=format!("{pass_id}-error")
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                <p id=format!("{pass_id}-error") class="auth-form__error">{field_error(|e| e.password.clone())}</p>
            </div>
            <Show when=move || errors.with(|e| e.form.is_some())>
                <p class="auth-form__alert" role="alert">{field_error(|e| e.form.clone())}</p>
            </Show>
            <button class="auth-form__submit" type="submit" disabled=move || !hydrated.get() || busy.get()>
                {mode.submit_label()}
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{ErrorCode, ErrorPayload};

    #[test]
    fn register_checks_the_protocol_rules() {
        let e = validate(AuthMode::Register, "ab", "short");
        assert!(e.username.is_some() && e.password.is_some());
        assert_eq!(
            validate(AuthMode::Register, "aiko", "long enough"),
            FormErrors::default()
        );
    }

    #[test]
    fn login_only_needs_both_fields() {
        assert!(validate(AuthMode::Login, " ", "x").username.is_some());
        assert_eq!(validate(AuthMode::Login, "ab", "x"), FormErrors::default());
    }

    #[test]
    fn server_errors_land_on_their_field() {
        let taken = ErrorPayload::new(ErrorCode::Conflict, "the name 'aiko' is taken");
        assert_eq!(
            server_error(&taken).form.as_deref(),
            Some("the name 'aiko' is taken")
        );
        let bad = ErrorPayload::invalid("password", "must be at least 8 characters long");
        assert!(server_error(&bad).password.is_some());
        let slow = ErrorPayload::rate_limited(2500);
        assert_eq!(
            server_error(&slow).form.as_deref(),
            Some("Too many attempts. Try again in 3 s.")
        );
    }
}
