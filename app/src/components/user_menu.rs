//! The signed-in user's name, the dashboard link for admins and the logout
//! control, in the top bar.

use leptos::prelude::*;

use crate::state::session::use_session;

#[component]
pub fn UserMenu() -> impl IntoView {
    let session = use_session();
    let name = session.me().map(|m| m.user.name).unwrap_or_default();
    let admin = session.me().is_some_and(|m| m.admin);
    let on_logout = move |_| {
        #[cfg(feature = "hydrate")]
        {
            // A deliberate close (1000): the client does not reconnect. The
            // messages still waiting to go out are dropped, here and in
            // localStorage: the session they belong to is ending.
            let client = use_context::<crate::realtime::ChatClient>();
            if let Some(client) = client {
                client.end_session();
            }
            leptos::task::spawn_local(async move {
                let _ = crate::api::post_json::<_, Option<()>>("/api/auth/logout", &()).await;
                // Only now (the session is revoked): the other tabs follow.
                if let Some(client) = client {
                    client.announce_session_ended();
                }
                let _ = window().location().assign("/login");
            });
        }
    };
    view! {
        <div class="user-menu">
            <span class="user-menu__name" aria-label="Signed in as">{name}</span>
            {admin.then(|| view! { <a class="user-menu__admin" href="/admin">"Dashboard"</a> })}
            <button class="user-menu__logout" type="button" on:click=on_logout>"Log out"</button>
        </div>
    }
}
