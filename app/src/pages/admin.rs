//! `/admin`: the live dashboard (admins only). Every node's numbers, updated
//! each second from `GET /api/admin/stats` (SSE), small charts of the last
//! three minutes, the announcement form, and signing a user out everywhere.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::dashboard::{show_mib, show_rate, sparkline, Metric, Timeline};
use crate::paths::auth_href;
use crate::state::session::use_session;

/// The chart's box, in SVG units.
const CHART_W: f64 = 240.0;
const CHART_H: f64 = 48.0;

#[component]
pub fn AdminPage() -> impl IntoView {
    let session = use_session();
    let Some(me) = session.me() else {
        return view! { <Redirect path=auth_href("/login", "/admin")/> }.into_any();
    };
    if !me.admin {
        #[cfg(feature = "ssr")]
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::FORBIDDEN);
        }
        return view! {
            <main class="admin admin--refused">
                <h1>"Admins only"</h1>
                <p>"The dashboard is for administrators. " <a href="/">"Back to the chat"</a></p>
            </main>
        }
        .into_any();
    }
    let timeline = RwSignal::new(Timeline::default());
    let live = RwSignal::new(false);
    follow_stats(timeline, live);
    view! {
        <main class="admin" aria-labelledby="admin-title">
            <header class="admin__header">
                <h1 id="admin-title">"Dashboard"</h1>
                <p class="admin__live" role="status">
                    {move || if live.get() { "Live" } else { "Connecting…" }}
                </p>
                <a class="admin__back" href="/">"Back to the chat"</a>
            </header>
            <NodesTable timeline/>
            <Charts timeline/>
            <AnnouncementForm/>
            <UserSessions/>
        </main>
    }
    .into_any()
}

/// Opens the stats stream (browser only) and appends each snapshot;
/// `live` says whether the stream is open.
fn follow_stats(timeline: RwSignal<Timeline>, live: RwSignal<bool>) {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if crate::in_browser() {
            use futures::StreamExt;
            use gloo_net::eventsource::futures::EventSource;
            let Ok(mut source) = EventSource::new("/api/admin/stats") else {
                return;
            };
            let Ok(mut stats) = source.subscribe("stats") else {
                return;
            };
            let (stop, stopped) = futures::channel::oneshot::channel::<()>();
            leptos::task::spawn_local(async move {
                let mut stopped = stopped;
                loop {
                    let next = futures::future::select(stats.next(), &mut stopped).await;
                    let futures::future::Either::Left((Some(event), _)) = next else {
                        break;
                    };
                    match event {
                        Ok((_, message)) => {
                            let data = message.data().as_string().unwrap_or_default();
                            if let Ok(snapshot) = serde_json::from_str(&data) {
                                live.try_set(true);
                                timeline.try_update(|t| t.push(snapshot));
                            }
                        }
                        // The browser reconnects by itself; say so meanwhile.
                        Err(_) => {
                            live.try_set(false);
                        }
                    }
                }
                source.close();
            });
            on_cleanup(move || {
                let _ = stop.send(());
            });
        }
        let _ = (timeline, live);
    });
}

#[component]
fn NodesTable(timeline: RwSignal<Timeline>) -> impl IntoView {
    let rows = Memo::new(move |_| timeline.with(Timeline::rows));
    view! {
        <section class="admin__section" aria-labelledby="nodes-title">
            <h2 id="nodes-title">"Nodes"</h2>
            <Show
                when=move || !rows.with(Vec::is_empty)
                fallback=|| view! { <p class="admin__waiting">"Waiting for the first numbers…"</p> }
            >
                <div class="admin__scroll">
                    <table class="admin__table" aria-labelledby="nodes-title">
                        <thead>
                            <tr>
                                <th scope="col">"Node"</th>
                                <th scope="col">"Connections"</th>
                                <th scope="col">"SSE streams"</th>
                                <th scope="col">"Messages/s"</th>
                                <th scope="col">"Frames in/s"</th>
                                <th scope="col">"Frames out/s"</th>
                                <th scope="col">"Memory"</th>
                                <th scope="col">"Store"</th>
                                <th scope="col">"Bus"</th>
                                <th scope="col">"Dropped"</th>
                                <th scope="col">"Slow consumers"</th>
                                <th scope="col">"Recovery fetches"</th>
                                <th scope="col">"Gaps repaired"</th>
                            </tr>
                        </thead>
                        <tbody>
                            // A handful of rows, all new each second: rebuilt whole.
                            {move || {
                                rows.get()
                                    .into_iter()
                                    .map(|row| {
                                        let s = row.stats;
                                        let health = |ok: bool, what: String| {
                                            view! {
                                                <td class=if ok { "admin__ok" } else { "admin__down" }>
                                                    {if ok { what } else { format!("{what}: down") }}
                                                </td>
                                            }
                                        };
                                        view! {
                                            <tr>
                                                <th scope="row">{s.node_id.clone()}</th>
                                                <td>{s.connections}</td>
                                                <td>{s.sse_streams}</td>
                                                <td>{show_rate(row.messages_per_s)}</td>
                                                <td>{show_rate(row.frames_in_per_s)}</td>
                                                <td>{show_rate(row.frames_out_per_s)}</td>
                                                <td>{show_mib(s.memory_bytes)}</td>
                                                {health(s.store_ok, "ok".into())}
                                                {health(s.bus_ok, s.bus.clone())}
                                                <td>{s.dropped}</td>
                                                <td>{s.slow_consumers}</td>
                                                <td>{s.recovery_fetches}</td>
                                                <td>{s.gaps_repaired}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </tbody>
                    </table>
                </div>
            </Show>
        </section>
    }
}

#[component]
fn Charts(timeline: RwSignal<Timeline>) -> impl IntoView {
    view! {
        <section class="admin__section" aria-labelledby="charts-title">
            <h2 id="charts-title">"Last three minutes"</h2>
            <div class="admin__charts">
                {Metric::ALL
                    .into_iter()
                    .map(|metric| {
                        let values = Memo::new(move |_| timeline.with(|t| t.series(metric)));
                        let now = move || values.with(|v| v.last().copied().map(show_rate));
                        let label = move || {
                            format!(
                                "{}, last three minutes: {}",
                                metric.label(),
                                now().unwrap_or_else(|| "no data yet".into()),
                            )
                        };
                        view! {
                            <figure class="admin__chart">
                                <figcaption>
                                    {metric.label()} ": " <strong>{move || now().unwrap_or_default()}</strong>
                                </figcaption>
                                <svg
                                    role="img"
                                    aria-label=label
                                    viewBox=format!("0 0 {CHART_W} {CHART_H}")
                                    preserveAspectRatio="none"
                                >
                                    <polyline
                                        points=move || values.with(|v| sparkline(v, CHART_W, CHART_H))
                                        fill="none"
                                        stroke="currentColor"
                                        stroke-width="2"
                                        vector-effect="non-scaling-stroke"
                                    />
                                </svg>
                            </figure>
                        }
                    })
                    .collect_view()}
            </div>
        </section>
    }
}

/// `POST /api/announcements`: a banner and a stored notification for everyone.
#[component]
fn AnnouncementForm() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let status = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = text.get_untracked().trim().to_owned();
        if body.is_empty() {
            status.set(Some("Write the announcement first.".into()));
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            sending.set(true);
            leptos::task::spawn_local(async move {
                let sent = crate::api::post_json::<_, protocol::http::PublishAccepted>(
                    "/api/announcements",
                    &serde_json::json!({ "text": body }),
                )
                .await;
                sending.try_set(false);
                let said = match sent {
                    Ok(done) => {
                        text.try_set(String::new());
                        format!("Announcement sent to {} users.", done.count)
                    }
                    Err(e) => format!("Not sent: {}", crate::errors::human(&e)),
                };
                status.try_set(Some(said));
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (body, sending);
    };
    view! {
        <section class="admin__section" aria-labelledby="announce-title">
            <h2 id="announce-title">"Announcement"</h2>
            <form class="admin__form" on:submit=on_submit>
                <label for="announcement-text">"Announcement text"</label>
                <textarea
                    id="announcement-text"
                    rows="2"
                    maxlength="1000"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
                <button type="submit" disabled=move || sending.get()>"Send announcement"</button>
                <p class="admin__status" role="status">{move || status.get()}</p>
            </form>
        </section>
    }
}

/// Every account, with "Sign out everywhere" (ends all of its sessions).
#[component]
fn UserSessions() -> impl IntoView {
    let users = RwSignal::new(Vec::<protocol::http::UserInfo>::new());
    let status = RwSignal::new(None::<String>);
    // Bumped by "Refresh list"; the list loads on mount and on each bump.
    let reloads = RwSignal::new(0_u32);
    Effect::new(move |_| {
        reloads.track();
        #[cfg(feature = "hydrate")]
        if crate::in_browser() {
            leptos::task::spawn_local(async move {
                match crate::api::get_json::<Vec<protocol::http::UserInfo>>("/api/admin/users")
                    .await
                {
                    Ok(list) => {
                        users.try_set(list);
                    }
                    Err(e) => {
                        status.try_set(Some(format!(
                            "Cannot list users: {}",
                            crate::errors::human(&e)
                        )));
                    }
                }
            });
        }
    });
    let revoke = move |name: String| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let path = format!(
                "/api/admin/users/{}/revoke",
                crate::paths::encode_component(&name)
            );
            let done =
                crate::api::post_json::<_, protocol::http::RevokedSessions>(&path, &()).await;
            status.try_set(Some(match done {
                Ok(r) => format!("{name} was signed out of {} sessions.", r.sessions),
                Err(e) => format!("{name} was not signed out: {}", crate::errors::human(&e)),
            }));
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (name, status);
    };
    view! {
        <section class="admin__section" aria-labelledby="users-title">
            <h2 id="users-title">"Users"</h2>
            <button type="button" class="admin__refresh" on:click=move |_| reloads.update(|n| *n += 1)>
                "Refresh list"
            </button>
            <p class="admin__status" role="status">{move || status.get()}</p>
            <ul class="admin__users">
                <For
                    each=move || users.get()
                    key=|u| u.user.id
                    children=move |u| {
                        let name = u.user.name.clone();
                        let label = format!("Sign out {name} everywhere");
                        view! {
                            <li>
                                <span>{u.user.name.clone()}</span>
                                {u.admin.then(|| view! { <span class="admin__badge">"admin"</span> })}
                                <button type="button" aria-label=label on:click=move |_| revoke(name.clone())>
                                    "Sign out everywhere"
                                </button>
                            </li>
                        }
                    }
                />
            </ul>
        </section>
    }
}
