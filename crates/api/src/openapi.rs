//! The OpenAPI document, built from the route registry (so it lists exactly the served routes).

use crate::registry::Registry;
use utoipa::openapi::{
    security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder,
};

pub fn document(registry: &Registry) -> OpenApi {
    let (paths, schemas) = registry.openapi_parts();
    let mut components = ComponentsBuilder::new()
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        )
        .security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Campus API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Campus: lessons, tasks and graded Python submissions. Errors are \
                     `{\"error\":{\"code\",\"message\",\"fields\"}}`; JSON names are camelCase.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components.build()))
        .build()
}
