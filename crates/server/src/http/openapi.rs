//! `/openapi.json`, generated from the handlers' annotations.

use std::sync::OnceLock;

use axum::response::IntoResponse;
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};

/// The whole API description (built once).
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = super::pds::openapi();
        doc.info = InfoBuilder::new()
            .title("Roster")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(
                "User and organization directory with the Alibaba Cloud PDS /v2 API.",
            ))
            .build();
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        doc
    })
}

pub async fn serve() -> impl IntoResponse {
    Json(document())
}
