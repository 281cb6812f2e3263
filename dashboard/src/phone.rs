//! `/telephone/{id}`: the visitor's phone downloads a document sent from a seat and opens
//! it (see `commune_protocol::handoff`). No login: the address is the capability (128
//! random bits), and what it gives is sealed with a key the server never sees, which the
//! link carries in its fragment.
//!
//! - `GET` shows the page, in the visitor's language (`?lang=`), and says whether the
//!   document is still waiting. It never consumes it: a QR reader or a link preview that
//!   fetches the address takes nothing.
//! - `POST` (by the page's script, after a tap) gives the sealed bytes once and forgets
//!   them.
//!
//! The page's script reads the key from the fragment, removes it from the address bar,
//! downloads, opens the seal with Web Crypto (AES-256-GCM) and saves the document under
//! its own name, which only the phone ever reads. Web Crypto needs a secure context: the
//! public address must be HTTPS (the IT guide says so); `http://127.0.0.1` is one too.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use commune_controller::Controller;
use maud::{html, PreEscaped, DOCTYPE};
use serde::Deserialize;

/// One language's words of the phone page.
pub(crate) struct PhoneTexts {
    lang: &'static str,
    rtl: bool,
    title: &'static str,
    intro: &'static str,
    get: &'static str,
    working: &'static str,
    done: &'static str,
    save: &'static str,
    gone: &'static str,
    nokey: &'static str,
    failed: &'static str,
    noscript: &'static str,
    once: &'static str,
}

include!("phone_texts.rs");

/// The page's style (allowed by its hash in the Content-Security-Policy).
pub(crate) const PHONE_CSS: &str = "body{font-family:\"DejaVu Sans\",sans-serif;margin:0;\
padding:1rem;font-size:1.15rem;line-height:1.5;color:#111;background:#fff;}\
main{max-width:36rem;margin:auto;}h1{font-size:1.6rem;}\
button,a.save{display:block;width:100%;box-sizing:border-box;min-height:3rem;margin:1rem 0;\
padding:.75rem;font-size:1.15rem;border-radius:.4rem;text-align:center;}\
button{background:#0b4f9c;color:#fff;border:0;}a.save{border:2px solid #0b4f9c;color:#0b4f9c;}\
[hidden]{display:none!important;}.status{font-weight:bold;}.gone{color:#8a1c1c;font-weight:bold;}bdi{overflow-wrap:anywhere;}";

/// The page's script (allowed by its hash in the Content-Security-Policy).
pub(crate) const PHONE_JS: &str = "(function(){var box=document.getElementById('phone');\
if(!box)return;var st=document.getElementById('status'),btn=document.getElementById('get');\
function say(k){st.textContent=box.getAttribute('data-'+k);}\
var m=/[#&]k=([A-Za-z0-9_-]{43})(?:&|$)/.exec(location.hash);\
if(box.getAttribute('data-waiting')!=='1'){return;}\
if(!m){say('nokey');return;}var k=m[1];\
history.replaceState(null,'',location.pathname+location.search);\
if(!window.crypto||!crypto.subtle){say('failed');return;}btn.hidden=false;\
btn.addEventListener('click',function(){btn.disabled=true;say('working');\
var raw=atob(k.replace(/-/g,'+').replace(/_/g,'/')+'=');var key=new Uint8Array(raw.length);\
for(var i=0;i<raw.length;i++)key[i]=raw.charCodeAt(i);\
fetch(location.pathname,{method:'POST',credentials:'omit',cache:'no-store'})\
.then(function(r){if(!r.ok)throw 'gone';return r.arrayBuffer();})\
.then(function(buf){if(buf.byteLength<28)throw 'failed';\
return crypto.subtle.importKey('raw',key,'AES-GCM',false,['decrypt']).then(function(ck){\
return crypto.subtle.decrypt({name:'AES-GCM',iv:new Uint8Array(buf,0,12),\
additionalData:new TextEncoder().encode('commune-handoff-v1')},ck,new Uint8Array(buf,12));});})\
.then(function(plain){var b=new Uint8Array(plain),v=new DataView(plain),dec=new TextDecoder();\
var n=v.getUint16(0),name=dec.decode(b.subarray(2,2+n)),at=2+n,t=v.getUint16(at);\
var type=dec.decode(b.subarray(at+2,at+2+t));at+=2+t;\
var blob=new Blob([b.subarray(at)],{type:type||'application/octet-stream'});\
var a=document.getElementById('save');a.href=URL.createObjectURL(blob);\
a.download=name.replace(/[\\\\\\/]/g,'_')||'document';document.getElementById('name').textContent=name;\
document.getElementById('done').hidden=false;a.hidden=false;btn.hidden=true;say('once');a.click();})\
.catch(function(e){btn.hidden=true;say(e==='gone'?'gone':'failed');});});})();";

/// The words of `lang` (a tag of the visitor screens), French otherwise.
fn texts(lang: Option<&str>) -> &'static PhoneTexts {
    lang.and_then(|l| TEXTS.iter().find(|t| t.lang == l))
        .unwrap_or(&TEXTS[0])
}

/// The page's title, its button and its "already used or expired" sentence in `lang`.
pub(crate) fn words(lang: &str) -> (&'static str, &'static str, &'static str) {
    let t = texts(Some(lang));
    (t.title, t.get, t.gone)
}

#[derive(Debug, Deserialize)]
pub(crate) struct PhoneQuery {
    lang: Option<String>,
}

/// `GET /telephone/{id}`.
pub(crate) async fn page(
    State(c): State<Controller>,
    Path(id): Path<String>,
    Query(query): Query<PhoneQuery>,
) -> Response {
    let t = texts(query.lang.as_deref());
    let waiting = commune_controller::handoff::is_id(&id) && c.handoffs().waiting(&id);
    let markup = html! {
        (DOCTYPE)
        html lang=(t.lang) dir=(if t.rtl { "rtl" } else { "ltr" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (t.title) " — Commune" }
                style { (PreEscaped(PHONE_CSS)) }
            }
            body {
                main {
                    h1 { (t.title) }
                    @if waiting {
                        p { (t.intro) }
                        div #phone data-waiting="1" data-working=(t.working) data-gone=(t.gone)
                            data-nokey=(t.nokey) data-failed=(t.failed) data-once=(t.once) {
                            noscript { p.gone { (t.noscript) } }
                            button #get type="button" hidden { (t.get) }
                            p #status .status role="status" aria-live="polite" {}
                            p #done hidden { (t.done) " " bdi #name {} }
                            a #save .save hidden href="#" { (t.save) }
                        }
                        script { (PreEscaped(PHONE_JS)) }
                    } @else {
                        p.gone role="alert" { (t.gone) }
                    }
                }
            }
        }
    };
    let status = if waiting {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    (status, Html(markup.into_string())).into_response()
}

/// `POST /telephone/{id}`: the sealed bytes, once.
pub(crate) async fn download(State(c): State<Controller>, Path(id): Path<String>) -> Response {
    let taken = commune_controller::handoff::is_id(&id)
        .then(|| c.handoffs().take(&id))
        .flatten();
    match taken {
        Some(taken) => {
            c.metrics().handoff("downloaded", 1);
            (
                [(header::CONTENT_TYPE, "application/octet-stream")],
                taken.sealed,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "gone").into_response(),
    }
}
