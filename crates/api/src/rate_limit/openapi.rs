//! What the OpenAPI document says about limits: each operation names its budget and lists the
//! 429 answer with its headers, so clients can read the contract rather than discover it.

use super::config::CLASS_VARS;
use domain::rate_limit::RouteClass;
use utoipa::openapi::{
    header::HeaderBuilder,
    path::Operation,
    schema::{Object, Type},
    Content, Ref, RefOr, ResponseBuilder,
};

pub fn document(op: &mut Operation, class: RouteClass) {
    let var = CLASS_VARS
        .iter()
        .find(|(c, _, _)| *c == class)
        .map_or("", |(_, v, _)| *v);
    let note = format!(
        "Rate limit: the `{class}` budget (`{var}`), per account when signed in, else per client \
         address; every response carries `RateLimit-Limit`, `RateLimit-Remaining` and \
         `RateLimit-Reset`."
    );
    op.description = Some(match op.description.take() {
        Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
        _ => note,
    });
    let seconds = |text: &str| {
        HeaderBuilder::new()
            .schema(Object::with_type(Type::Integer))
            .description(Some(text))
            .build()
    };
    // An operation may document a 429 of its own (e.g. a cap on work in flight); the limiter's
    // headers come with every 429, so its description is kept and the headers are added.
    let own = match op.responses.responses.get("429") {
        Some(RefOr::T(r)) if !r.description.is_empty() => format!("{}; or ", r.description),
        _ => String::new(),
    };
    let response = ResponseBuilder::new()
        .description(format!(
            "Too many requests: {own}the budget is spent; retry after `Retry-After` seconds"
        ))
        .header(
            "Retry-After",
            seconds("Seconds until one more request is allowed"),
        )
        .header("RateLimit-Limit", seconds("Requests per window"))
        .header("RateLimit-Remaining", seconds("Requests left now"))
        .header(
            "RateLimit-Reset",
            seconds("Seconds until the whole budget is back"),
        )
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build();
    op.responses
        .responses
        .insert("429".into(), RefOr::T(response));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn each_operation_documents_its_budget_and_the_429() {
        let mut op = Operation::new();
        document(&mut op, RouteClass::Submit);
        assert!(op
            .description
            .as_deref()
            .unwrap()
            .contains("RATE_LIMIT_SUBMIT"));
        let RefOr::T(r) = &op.responses.responses["429"] else {
            panic!("inline 429")
        };
        for h in [
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ] {
            assert!(r.headers.contains_key(h), "{h}");
        }
    }
}
