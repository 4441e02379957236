//! The rule catalog: every documented rule the mock enforces, with a stable id, the
//! documentation sentence it comes from (paraphrased) and the generic fix.
//!
//! Rejections name a [`Rule`]; the request log, error bodies and (later) the conformance
//! runner all read the id from here, so an id is written once. Ids are stable: users put
//! them in baselines.

use serde::Serialize;

/// How strongly the documentation asks for a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Must,
    Should,
}

/// Which documentation a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Onshape's OAuth guide ("Using OAuth 2.0 with Onshape").
    OauthGuide,
    /// The developer settings page (app registration, permission scopes).
    DeveloperSettings,
    /// RFC 6749 / RFC 6750, which the guide names as the reference.
    Rfc,
    /// Onshape's REST API documentation (see ONSHAPE-FACTS.md).
    ApiDocs,
    /// A bound of the mock itself, not of Onshape (memory stays bounded).
    Mock,
}

/// One documented rule.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub level: Level,
    pub source: Source,
    /// What the documentation says, paraphrased.
    pub doc: &'static str,
    /// The generic fix, one sentence.
    pub fix: &'static str,
}

macro_rules! rules {
    ($( $(#[$m:meta])* $name:ident = $id:literal, $level:ident, $source:ident, $doc:literal, $fix:literal; )*) => {
        $( $(#[$m])* pub const $name: &Rule = &Rule {
            id: $id, level: Level::$level, source: Source::$source, doc: $doc, fix: $fix,
        }; )*
        /// Every rule, in catalog order.
        pub const ALL: &[&Rule] = &[$($name),*];
    };
}

rules! {
    AUTHORIZE_GET = "authorize-get", Must, OauthGuide,
        "The authorization request should be a GET with all values as URL-encoded query parameters.",
        "Send the user's browser to GET /oauth/authorize?response_type=code&client_id=… (a 302 from your app).";
    RESPONSE_TYPE_CODE = "response-type-code", Must, OauthGuide,
        "The authorization URL carries response_type=code.",
        "Add response_type=code to the authorization URL.";
    QUERY_ENCODING = "query-encoding", Must, OauthGuide,
        "Values supplied to /oauth/authorize must be correctly URL encoded, each parameter once.",
        "Percent-encode each query value (UTF-8), and send each parameter once.";
    CLIENT_KNOWN = "client-known", Must, OauthGuide,
        "The client id identifies your registered application in every OAuth exchange.",
        "Use the client id Onshape issued for the registered application, exactly, with its trailing `=` encoded as %3D.";
    CLIENT_ID_ENCODED = "client-id-encoded", Must, OauthGuide,
        "The client id typically has at least one trailing = which must be URL encoded (replaced with %3D).",
        "URL-encode the client id: each trailing `=` becomes %3D.";
    CLIENT_SECRET_ENCODED = "client-secret-encoded", Must, OauthGuide,
        "The client id and client secret both have trailing = which must be replaced with %3D in the token request.",
        "URL-encode the client secret in the form body: each trailing `=` becomes %3D.";
    REDIRECT_URI_REGISTERED = "redirect-uri-registered", Must, OauthGuide,
        "You can only use a redirect_uri previously registered for this application; it must match a registered value exactly, including the port.",
        "Send one of the registered redirect URIs character for character (scheme, host, port, path, query), or register the one you use.";
    SCOPE_REGISTERED = "scope-registered", Must, OauthGuide,
        "The scope parameter may only restrict the token to a subset of the scopes registered for the application, space-separated as in RFC 6749.",
        "Request only scopes the application registered, separated by single spaces (OAuth2Read OAuth2Write), or omit scope to get all registered scopes.";
    COMPANY_MEMBER = "company-member", Must, OauthGuide,
        "company_id identifies the company of the user requesting the token; tokens are unique to the combination of user and company.",
        "Send a company_id the user belongs to, or omit it and let the user choose.";
    SECRET_NOT_IN_URL = "secret-not-in-url", Must, OauthGuide,
        "The client secret must be stored securely and protected like a password; it belongs only in the token request's form body.",
        "Never put client_secret in a URL: send it only in the POST body to /oauth/token (or as HTTP Basic).";
    TOKEN_POST = "token-post", Must, OauthGuide,
        "The token request is a POST with a form body; it is not a GET with the data as query parameters.",
        "Send POST /oauth/token with the parameters in the body.";
    TOKEN_FORM_BODY = "token-form-body", Must, OauthGuide,
        "The token request carries its data as a URL-encoded form body with Content-Type application/x-www-form-urlencoded.",
        "Send Content-Type: application/x-www-form-urlencoded and the parameters in the body, not the query string and not JSON.";
    TOKEN_FORM_ENCODING = "token-form-encoding", Must, OauthGuide,
        "Each parameter must be URL encoded; do not encode the entire body: the = separating name and value stays intact.",
        "Encode each name and value separately (percent-encoding, UTF-8) and join them with raw `=` and `&`.";
    PARAM_ONCE = "param-once", Must, Rfc,
        "Request and response parameters must not be included more than once (RFC 6749 §3.1, §3.2).",
        "Send each parameter once.";
    GRANT_TYPE_SUPPORTED = "grant-type-supported", Must, OauthGuide,
        "The token endpoint takes grant_type=authorization_code or grant_type=refresh_token.",
        "Send grant_type=authorization_code to redeem a code, grant_type=refresh_token to refresh.";
    CLIENT_AUTH = "client-auth", Must, OauthGuide,
        "The token request carries the client id and client secret Onshape issued.",
        "Send the registered client_id and client_secret (form body, or HTTP Basic).";
    CLIENT_AUTH_ONE_METHOD = "client-auth-one-method", Must, Rfc,
        "A client must not use more than one authentication method in a request (RFC 6749 §2.3).",
        "Send the client secret either in the form body or as HTTP Basic, not both.";
    TOKEN_REDIRECT_URI_REPEATED = "token-redirect-uri-repeated", Must, OauthGuide,
        "If a redirect URI was supplied to /oauth/authorize it must also be supplied in the POST to /oauth/token.",
        "Add redirect_uri to the token request, identical to the one sent to /oauth/authorize.";
    REDIRECT_URI_EXACT = "redirect-uri-exact", Must, Rfc,
        "The redirect_uri of the token request must be identical to the one of the authorization request (RFC 6749 §4.1.3).",
        "Send the same redirect_uri, character for character, to /oauth/authorize and /oauth/token.";
    CODE_KNOWN = "code-known", Must, OauthGuide,
        "The code is the one Onshape returned to the redirect URI.",
        "Send the `code` query parameter of the callback unchanged (URL-encoded in the form body).";
    CODE_EXPIRED = "code-expired", Must, OauthGuide,
        "If the code is not exchanged for an access token within 60 seconds after it is issued, it expires.",
        "Exchange the code as soon as the callback arrives; on expiry start a new authorization.";
    CODE_SINGLE_USE = "code-single-use", Must, OauthGuide,
        "The authorization code is a one-time use token.",
        "Redeem each code once and keep the tokens; a second redemption also revokes the tokens of the first.";
    CODE_CLIENT_BOUND = "code-client-bound", Must, Rfc,
        "A code can only be redeemed by the client it was issued to (RFC 6749 §4.1.3).",
        "Redeem the code with the client id that started the authorization.";
    REFRESH_TOKEN_VALID = "refresh-token-valid", Must, OauthGuide,
        "New access tokens come from the refresh token returned by the code exchange.",
        "Send the refresh_token from the latest token response.";
    REFRESH_TOKEN_ROTATED = "refresh-token-rotated", Must, OauthGuide,
        "Each refresh returns a new refresh token; the previous one stops working.",
        "Store the refresh_token of every token response and use the newest.";
    GRANT_ACTIVE = "grant-active", Must, OauthGuide,
        "Refresh tokens are valid for the lifetime of the user's grant; when the user revokes the grant the refresh token is invalidated.",
        "Stop refreshing; send the user through /oauth/authorize again to get a new grant.";
    BEARER_HEADER = "bearer-header", Must, OauthGuide,
        "The access token must be supplied on all Onshape API requests as the header Authorization: Bearer <access_token>.",
        "Send Authorization: Bearer <access_token>; never put the token in the URL.";
    ACCESS_TOKEN_VALID = "access-token-valid", Must, OauthGuide,
        "The access token is the one returned by the token endpoint for this application, user and company.",
        "Send the access_token of the latest token response.";
    ACCESS_TOKEN_EXPIRED = "access-token-expired", Must, OauthGuide,
        "The access token has a limited lifetime of 60 minutes; the application must then use the refresh token to get a new one.",
        "On a 401, refresh with grant_type=refresh_token and retry with the new access token.";
    SCOPE_SUFFICIENT = "scope-sufficient", Must, DeveloperSettings,
        "Each permission scope allows one kind of access: OAuth2Read to read, OAuth2Write to write, OAuth2Delete to delete, OAuth2ReadPII for profile information.",
        "Register and request the scope the call needs.";
    LIGHT_USER_READ_ONLY = "light-user-read-only", Must, DeveloperSettings,
        "Light users have read-only access and cannot be added to applications.",
        "Do not write or delete on behalf of a light user.";
    TOKEN_ONLY_FOR_API = "token-only-for-api", Must, OauthGuide,
        "An OAuth token works for the APIs under /api; it is not appropriate to use it to fetch the URLs displayed in a browser's location bar.",
        "Send bearer tokens only to paths under /api on the API host.";
    /// A warning, not a refusal: the API origin answers `/oauth/token` (passport-onshape's
    /// default layout) and the exchange is logged with this rule.
    TOKEN_AT_OAUTH_HOST = "token-at-oauth-host", Should, OauthGuide,
        "Token requests go to https://oauth.onshape.com/oauth/token; cad.onshape.com answers them too (passport-onshape's default), but the guide names the OAuth host.",
        "Send token requests to the OAuth host (ONSHAPE_OAUTH_URL/oauth/token; passport-onshape: set tokenURL to https://oauth.onshape.com/oauth/token).";
    API_KEY_KNOWN = "api-key-known", Must, DeveloperSettings,
        "An API key is the access key Onshape issued with its secret key; a deleted key stops working at once (deleting cannot be undone).",
        "Use the access key and secret key of an existing key (GET /__mock/apikeys lists them), or create one.";
    API_KEY_STACK = "api-key-stack", Must, DeveloperSettings,
        "Once you create an API key, it is valid only in the stack on which it was created: a key created on companyName.onshape.com does not work on cad.onshape.com.",
        "Send the key's requests to the stack it was created on, or create a key on the stack you call.";
    API_KEY_SECRET = "api-key-secret", Must, ApiDocs,
        "HTTP Basic authentication carries the access key as user name and the secret key as password.",
        "Send Authorization: Basic base64(ACCESS_KEY:SECRET_KEY), with the secret key shown when the key was created.";
    API_KEY_HEADER = "api-key-header", Must, ApiDocs,
        "A signed request carries Authorization: On <accessKey>:HmacSHA256:<signature>, the signature in base64.",
        "Send Authorization: On ACCESS_KEY:HmacSHA256:SIGNATURE (or HTTP Basic with the access and secret keys).";
    DATE_FRESH = "date-fresh", Must, ApiDocs,
        "A signed request carries a Date header (RFC 1123, GMT) within 5 minutes of the server's time.",
        "Send Date: <now, RFC 1123 in GMT>, e.g. Mon, 23 Nov 2026 16:00:00 GMT, taken when the request is signed, from a clock that is right.";
    NONCE_UNIQUE = "nonce-unique", Must, ApiDocs,
        "A signed request carries an On-Nonce header of at least 16 alphanumeric characters, unique per request.",
        "Send On-Nonce: <25 random letters and digits>, a new one for every request, retries included.";
    CONTENT_TYPE_SIGNED = "content-type-signed", Must, ApiDocs,
        "The Content-Type in the signed string is the Content-Type header the request is sent with.",
        "Sign exactly the Content-Type header you send (parameters such as charset included), or send the one you signed.";
    SIGNATURE_VALID = "signature-valid", Must, ApiDocs,
        "The signature is base64(HMAC-SHA256(secret key, lower-case(method, nonce, date, content type, path, query, each followed by a newline))).",
        "Sign lower-case(METHOD\\nNONCE\\nDATE\\nCONTENT-TYPE\\nPATH\\nQUERY\\n) with the secret key: the path without the query, the query as sent, the trailing newline included.";
    REDIRECT_RESIGNED = "redirect-resigned", Must, ApiDocs,
        "A 307 redirect must be signed again for its new path and query, with a new nonce and Date.",
        "On a 307, sign the request again for the Location's path and query (new On-Nonce, new Date) before sending it there; do not resend the old headers.";
    KEY_NOT_IN_URL = "key-not-in-url", Must, ApiDocs,
        "API keys are secrets: they go in the Authorization header, never in the URL.",
        "Send the keys in Authorization (Basic or a signature), not as query parameters; then delete the exposed key and create a new one.";
    API_ROUTE = "api-route", Must, ApiDocs,
        "The REST API lives under /api on cad.onshape.com, with an optional version: /api/v6/documents/{did}.",
        "Check the method and path against the API reference.";
    API_PARAMETERS = "api-parameters", Must, ApiDocs,
        "Each operation of Onshape's OpenAPI document lists its path, query and header parameters: the required ones must be sent and every value must fit its schema (type, enum; ids are 24 hex characters, wvm is w, v or m).",
        "Send every required parameter, each with a value its schema allows (the hint names the parameter and what it wants).";
    API_BODY = "api-body", Must, ApiDocs,
        "An operation that takes a body says so in Onshape's OpenAPI document: its media type, and for JSON the schema its fields must follow (required properties, types, enums; a `btType` naming the subtype).",
        "Send the body the operation's schema describes, as JSON with Content-Type: application/json (the hint gives the JSON pointer of the field and what its schema wants).";
    REQUEST_SIZE = "request-size", Must, Rfc,
        "Requests are small: the mock refuses bodies over 64 KiB (413) and request heads over 64 KiB (431).",
        "Send a smaller body.";
    FORM_TOKEN = "form-token", Must, Rfc,
        "The login, consent and Applications forms are posted from the mock's own pages: each carries an anti-forgery token, and a post from another site is refused (RFC 6749 §10.12).",
        "Submit the form from the page the mock served (reload it first); a script that drives the pages must send the form's hidden `csrf` field back.";
    CONSENT_FORM = "consent-form", Must, Mock,
        "The login and consent pages answer one pending authorization, once, within 10 minutes of the /oauth/authorize request; their forms carry `request` and `user` (and `decision`, and `company_id` when the page asks).",
        "Start again from the application (a new /oauth/authorize request) rather than going Back to an answered page; a script that drives the pages posts the fields the page's form carries.";
    HOST_ALLOWED = "host-allowed", Must, Mock,
        "The mock answers requests addressed to an IP address, localhost or *.localhost, or a name given with `serve --allow-host`: a web page that rebinds its own name to 127.0.0.1 (DNS rebinding) is refused (421).",
        "Address the mock as 127.0.0.1 or localhost, or start it with `--allow-host NAME` for the name you use (a Docker service name, say).";
    MOCK_CAPACITY = "mock-capacity", Must, Mock,
        "The mock's memory is bounded: it holds at most 10,000 documents (a limit of the mock, not of Onshape).",
        "Delete documents you no longer need, or reset the mock (POST /__mock/reset).";
    REQUEST_TIMEOUT = "request-timeout", Must, Rfc,
        "A request's body arrives promptly: the mock answers 408 and closes the connection when a body takes longer than the body timeout (10 s by default, `serve --body-timeout`).",
        "Send the body right after the head, without pauses.";
    REGISTRATION_NAME = "registration-name", Must, DeveloperSettings,
        "An application has a name, displayed to users.",
        "Give the application a non-empty name.";
    REGISTRATION_PRIMARY_FORMAT = "registration-primary-format", Must, DeveloperSettings,
        "The primary format uniquely identifies the application and takes the form of a Java-style reverse domain name, e.g. com.example.example; it cannot be changed after the application is registered.",
        "Use a unique reverse-domain string such as com.megacorp.stl-preview, and keep it once registered.";
    REGISTRATION_REDIRECT_URL = "registration-redirect-url", Must, DeveloperSettings,
        "At least one redirect URL; it must use https, except http://localhost:<port> and urn:ietf:wg:oauth:2.0:oob for installed desktop applications.",
        "Register https URLs, http://localhost:<port>[/path], or urn:ietf:wg:oauth:2.0:oob.";
    REGISTRATION_SCOPES = "registration-scopes", Must, DeveloperSettings,
        "The permission scopes are OAuth2ReadPII, OAuth2Read, OAuth2Write, OAuth2Delete, OAuth2Purchase and OAuth2Share.",
        "Register known scopes only.";
    REGISTRATION_OAUTH_URL = "registration-oauth-url", Must, DeveloperSettings,
        "The OAuth URL is the first URL the Applications page calls, the page that starts the app's OAuth flow; it may be left blank for local work.",
        "Give the https URL of the page that starts your app's OAuth flow (http://localhost:<port> for local work), or leave it blank.";
    DEVELOPER_ADMIN = "developer-admin", Must, DeveloperSettings,
        "Company, classroom and enterprise admins register the company's applications, manage them and its API keys; individual users manage their own in the Developer Portal.",
        "Act as an admin of the company that owns the application or key (`as` in the control API), or as the user who owns it.";
    DEVELOPER_PLAN = "developer-plan", Must, DeveloperSettings,
        "Registering applications in the company's developer settings is only available to Enterprise and Professional admins.",
        "Register the application in the Developer Portal as an individual, or in a company on the Enterprise or Professional plan.";
    APP_DELETE_ORDER = "app-delete-order", Must, DeveloperSettings,
        "If your app has an Onshape App Store entry, delete that first; then delete the application.",
        "Delete the application's store entry, then the application.";
    APP_TRANSFER = "app-transfer", Must, DeveloperSettings,
        "An application is transferred to an individual (a full user, by name or email) or to a company or enterprise; it then leaves its old owner's list, and future API usage is attributed to the new owner.",
        "Transfer to a full user's email or to a company id, other than the current owner.";
    APP_USERS = "app-users", Must, DeveloperSettings,
        "Admins add users, teams and aliases of the company to an application; the admin who created it is in the list at once; light users cannot be added.",
        "Add full users, teams or aliases of the application's company; not light users, and each once.";
    STORE_ENTRY = "store-entry", Must, DeveloperSettings,
        "A store entry takes its name and summary from the application, a type that matches the application's, a category, a team visibility, a support URL or email and a support email (both monitored), a vendor and a version; an application has one entry.",
        "Fill in the entry's fields: the app's type, a category, support URL and email, vendor and version.";
    EXTENSION_FIELDS = "extension-fields", Must, DeveloperSettings,
        "An extension has a name, a location and (where the location has them) a context from Onshape's list, and an action URL; an action type (GET, POST, Open in new window) only where no UI is embedded; an action body only for POST, in valid JSON; show response only for GET and POST.",
        "Fill in the extension form as the location allows: an action type only for context-menu locations, a JSON body only for POST, show response only for GET and POST.";
    EXTENSION_ONE_PER_APP = "extension-one-per-app", Must, DeveloperSettings,
        "You can create only one element tab extension per application (and one part number generator).",
        "Keep one element tab extension per application; put other pages in panels or further apps.";
    EXTENSION_USERS = "extension-users", Must, DeveloperSettings,
        "Users added to an application (directly, or through a team or alias) see its extensions without subscribing in the App Store.",
        "Add the user, or a team or alias they are in, to the application's users (or publish its store entry).";
    EXTENSION_PLACEHOLDERS = "extension-placeholders", Must, DeveloperSettings,
        "Action URLs and bodies carry the documented placeholders ({$documentId}, {$workspaceOrVersion}, {$workspaceOrVersionId}, {$elementId}, {$partId}…), each replaced where its location and context provide it; {$workspaceId} and {$versionId} are deprecated.",
        "Use documented placeholders that the extension's location and context replace; replace {$workspaceId} and {$versionId} with {$workspaceOrVersion}/{$workspaceOrVersionId}.";
    EXTENSION_RESPONSE = "extension-response", Must, DeveloperSettings,
        "A GET or POST action is answered within 180 seconds; with Show response the answer must be valid JSON; a part number generator answers JSON with id and partNumber.",
        "Answer the action promptly with a 2xx, and with a JSON body when Show response is on.";
    REDIRECT_ONSHAPE_URI = "redirect-onshape-uri", Must, OauthGuide,
        "An integrated cloud app opened from the Applications page gets redirectOnshapeUri with its OAuth URL, and sends the user there after a successful grant.",
        "Read redirectOnshapeUri from the OAuth URL's query, keep it through the OAuth flow (in the state or the session), and redirect to it once the code is redeemed.";
    API_ANNUAL_LIMIT = "api-annual-limit", Must, ApiDocs,
        "API calls are limited per year by plan (Enterprise 10,000 per full user, Professional 5,000, Free, Standard and EDU Student 2,500), counted for the app's owner; only 2xx and 3xx responses count; over the limit the API answers 402.",
        "Make fewer calls (cache, batch), or raise the plan; company apps count toward the company, Developer Portal apps toward their user.";
    API_RATE_LIMIT = "api-rate-limit", Must, ApiDocs,
        "The API rate-limits bursts: a 429 carries Retry-After in seconds (real values run to hours) and X-Rate-Limit-Remaining: 0.",
        "On a 429, wait the Retry-After seconds before calling again; spread calls out.";
    CONTROL_REQUEST = "control-request", Must, ApiDocs,
        "The control API under /__mock takes JSON bodies with the documented fields.",
        "Check the body against the control API in README.md.";
}

/// The rules an API key's request is refused under: their 401 challenges for Basic.
pub const API_KEY_RULES: &[&str] = &[
    API_KEY_KNOWN.id,
    API_KEY_STACK.id,
    API_KEY_SECRET.id,
    API_KEY_HEADER.id,
    DATE_FRESH.id,
    NONCE_UNIQUE.id,
    CONTENT_TYPE_SIGNED.id,
    SIGNATURE_VALID.id,
    REDIRECT_RESIGNED.id,
    KEY_NOT_IN_URL.id,
];

/// Looks a rule up by id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for rule in ALL {
            assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
            assert!(
                rule.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "rule id {} is not kebab-case",
                rule.id
            );
            assert!(
                rule.doc.ends_with('.') && rule.fix.ends_with('.'),
                "{}",
                rule.id
            );
        }
        assert_eq!(by_id("code-single-use"), Some(CODE_SINGLE_USE));
    }
}
