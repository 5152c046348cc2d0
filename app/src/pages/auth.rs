//! `/login` and `/register`.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::components::auth_form::{AuthForm, AuthMode};
use crate::state::session::use_session;

#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <AuthPage mode=AuthMode::Login title="Log in to Hibiki">
            <p class="auth-page__switch">"New here? " <a href="/register">"Create an account"</a></p>
        </AuthPage>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    view! {
        <AuthPage mode=AuthMode::Register title="Create your Hibiki account">
            <p class="auth-page__switch">"Have an account? " <a href="/login">"Log in"</a></p>
        </AuthPage>
    }
}

#[component]
fn AuthPage(mode: AuthMode, title: &'static str, children: Children) -> impl IntoView {
    // Already signed in: go to the chat.
    if use_session().is_signed_in() {
        return view! { <Redirect path="/"/> }.into_any();
    }
    view! {
        <main class="auth-page">
            <section class="auth-card" aria-labelledby="auth-title">
                <p class="auth-card__brand">"Hibiki"</p>
                <h1 id="auth-title" class="auth-card__title">{title}</h1>
                <AuthForm mode/>
                {children()}
            </section>
        </main>
    }
    .into_any()
}
