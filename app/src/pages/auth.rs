//! `/login` and `/register`. Both take `?next=`, the page to return to once
//! signed in (a same-origin path; anything else means `/`, see
//! [`crate::paths::after_login`]).

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::components::auth_form::{AuthForm, AuthMode};
use crate::paths::{after_login, auth_href};
use crate::state::session::use_session;

/// Where to go once signed in, from the page's `?next=`.
fn next_page() -> String {
    let query = use_query_map();
    query.with_untracked(|q| after_login(q.get("next").as_deref()))
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let other = auth_href("/register", &next_page());
    view! {
        <AuthPage mode=AuthMode::Login title="Log in to Hibiki">
            <p class="auth-page__switch">"New here? " <a href=other.clone()>"Create an account"</a></p>
        </AuthPage>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let other = auth_href("/login", &next_page());
    view! {
        <AuthPage mode=AuthMode::Register title="Create your Hibiki account">
            <p class="auth-page__switch">"Have an account? " <a href=other.clone()>"Log in"</a></p>
        </AuthPage>
    }
}

#[component]
fn AuthPage(mode: AuthMode, title: &'static str, children: Children) -> impl IntoView {
    let next = next_page();
    // Already signed in: go where the page was asked to return to.
    if use_session().is_signed_in() {
        return view! { <Redirect path=next/> }.into_any();
    }
    view! {
        <main class="auth-page">
            <section class="auth-card" aria-labelledby="auth-title">
                <p class="auth-card__brand">"Hibiki"</p>
                <h1 id="auth-title" class="auth-card__title">{title}</h1>
                <AuthForm mode next/>
                {children()}
            </section>
        </main>
    }
    .into_any()
}
