public import KarbonetesHTTP
import KarbonetesHTTPServer
public import KarbonetesMetrics
public import WebhookCore
public import KarbonetesModels

/// The webhook's HTTP surface: the admission path on the TLS port, health on both ports and
/// metrics on the plain one. Readiness waits for the policy cache, so that the API server is
/// never sent to a replica that would admit with built-in defaults by mistake.
public enum WebhookRoutes {
    public static let mutatePath = "/mutate-batch-v1-job"

    /// Routes for the HTTPS port the API server calls.
    public static func admission(handler: AdmissionReviewHandler, policies: any PolicyLookup) -> Router {
        var router = Router()
        router.add(.post, mutatePath) { request in
            let result = await handler.handle(body: request.body, contentType: request.headers["Content-Type"])
            var response = HTTPResponse.jsonData(result.body, status: HTTPStatus(code: result.status))
            response.headers.replaceOrAdd("Cache-Control", "no-store")
            return response
        }
        router.addHealthChecks { policies.isSynced }
        return router
    }

    /// Routes for the plain-HTTP metrics port.
    public static func metrics(registry: MetricsRegistry, policies: any PolicyLookup) -> Router {
        var router = Router()
        router.addMetrics(registry)
        router.addHealthChecks { policies.isSynced }
        return router
    }
}
