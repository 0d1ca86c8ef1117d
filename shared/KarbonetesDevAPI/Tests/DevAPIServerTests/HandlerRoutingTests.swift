import DevAPIServer
import DevAPIStore
import Foundation
import KarbonetesHTTP
import KarbonetesLogging
import KarbonetesModels
import Testing

/// The handler called in memory (no sockets): every route and its refusals.
@Suite("DevAPIHandler routes, in memory")
struct HandlerRoutingTests {
    static func handler() throws -> DevAPIHandler {
        var store = DevAPIStore(now: Date())
        try store.create(jobBody("existing"), type: .jobs, namespace: "default", now: Date())
        return DevAPIHandler(store: SharedStore(store: store), token: "secret", faults: FaultInjector(), serverAddress: "127.0.0.1:6443", logger: .disabled)
    }

    struct Route: Sendable, CustomStringConvertible {
        var description: String { "\(method) \(target) → \(wantStatus)" }
        var method: HTTPMethod
        var target: String
        var token: String? = "secret"
        var contentType: String = "application/json"
        var body: String = ""
        var wantStatus: Int
        var wantInBody: String? = nil
    }

    static let routes: [Route] = [
        Route(method: .get, target: "/version", token: nil, wantStatus: 200, wantInBody: "gitVersion"),
        Route(method: .get, target: "/healthz", token: nil, wantStatus: 200),
        Route(method: .get, target: "/api/v1/namespaces", token: nil, wantStatus: 401, wantInBody: "Unauthorized"),
        Route(method: .get, target: "/api/v1/namespaces", token: "wrong", wantStatus: 401),
        Route(method: .get, target: "/apis/batch", wantStatus: 200, wantInBody: "\"preferredVersion\""),
        Route(method: .get, target: "/apis/nothing.example.com", wantStatus: 404),
        Route(method: .get, target: "/api/v1", wantStatus: 200, wantInBody: "\"namespaces/status\""),
        Route(method: .get, target: "/openapi/v3", wantStatus: 200, wantInBody: "apis/batch/v1"),
        Route(method: .get, target: "/openapi/v3/apis/batch/v1?hash=x", wantStatus: 200, wantInBody: "fieldValidation"),
        Route(method: .get, target: "/openapi/v3/apis/nothing/v1", wantStatus: 404),
        Route(method: .get, target: "/api/v1/namespaces/default", wantStatus: 200, wantInBody: "\"phase\":\"Active\""),
        Route(method: .get, target: "/apis/batch/v1/namespaces/default/jobs/existing", wantStatus: 200),
        Route(method: .get, target: "/apis/batch/v1/namespaces/default/jobs/existing/log", wantStatus: 404),
        Route(method: .get, target: "/apis/batch/v1/namespaces/default/jobs?labelSelector=a%20in%20b", wantStatus: 400),
        Route(method: .get, target: "/apis/batch/v1/namespaces/default/jobs?limit=-1", wantStatus: 400),
        Route(method: .get, target: "/apis/batch/v1/namespaces/default/jobs?continue=garbage", wantStatus: 400),
        Route(method: .get, target: "/apis/batch/v1/namespaces/default/jobs?watch=true&resourceVersion=abc", wantStatus: 400),
        Route(method: .get, target: "/apis/apiextensions.k8s.io/v1/namespaces/default/customresourcedefinitions", wantStatus: 404),
        Route(method: .post, target: "/apis/batch/v1/namespaces/default/jobs", body: "{not json", wantStatus: 400),
        Route(method: .post, target: "/apis/batch/v1/namespaces/default/jobs", contentType: "application/yaml", body: "a: b", wantStatus: 415),
        Route(method: .post, target: "/apis/batch/v1/namespaces/default/jobs/existing/status", body: "{}", wantStatus: 405),
        Route(method: .post, target: "/apis/batch/v1/namespaces/default/jobs?dryRun=All", body: #"{"metadata":{"name":"dry"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"i"}]}}}}"#, wantStatus: 201),
        Route(method: .get, target: "/apis/batch/v1/namespaces/default/jobs/dry", wantStatus: 404),
        Route(method: .post, target: "/apis/batch/v1/namespaces/default/jobs", contentType: "application/vnd.kubernetes.protobuf", body: "k8s\u{0}junk", wantStatus: 415),
        Route(method: .patch, target: "/apis/batch/v1/namespaces/default/jobs/existing", contentType: "application/json-patch+json", body: #"{"op":"add"}"#, wantStatus: 400),
        Route(method: .patch, target: "/apis/batch/v1/namespaces/default/jobs/existing", contentType: "application/json-patch+json", body: #"[{"op":"replace","path":"/spec/selector","value":{}}]"#, wantStatus: 422, wantInBody: "spec.selector"),
        Route(method: .delete, target: "/apis/batch/v1/namespaces/default/jobs/existing", body: #"{"preconditions":{"uid":"other"}}"#, wantStatus: 409, wantInBody: "Precondition failed"),
        Route(method: .put, target: "/apis/batch/v1/namespaces/default/jobs/existing", body: #"{"metadata":{"name":"other"}}"#, wantStatus: 400, wantInBody: "does not match the name on the URL"),
        Route(method: .options, target: "/apis/batch/v1/namespaces/default/jobs", wantStatus: 405),
        Route(method: .get, target: "/devapi/faults", wantStatus: 200, wantInBody: "rules"),
        Route(method: .put, target: "/devapi/faults", body: #"{"rules":"no"}"#, wantStatus: 400),
        Route(method: .get, target: "/devapi/unknown", wantStatus: 404),
    ]

    @Test("each route answers the real server's status, and refusals carry a Status body", arguments: routes)
    func route(_ route: Route) async throws {
        let handler = try Self.handler()
        if route.target.hasSuffix("/jobs/dry") {
            _ = await handler.handle(request(Self.routes.first { $0.target.contains("dryRun=All") }!))
        }
        let response = await handler.handle(request(route))
        #expect(response.status.code == route.wantStatus)
        guard case .bytes(let data) = response.body else {
            Issue.record("streamed body for \(route)")
            return
        }
        let text = String(decoding: data, as: UTF8.self)
        if let want = route.wantInBody { #expect(text.contains(want), "\(text)") }
        if route.wantStatus >= 400, route.target != "/healthz" {
            let status = try KubernetesJSON.decoder.decode(Status.self, from: data)
            #expect(status.kind == "Status" && status.code == route.wantStatus)
        }
    }

    func request(_ route: Route) -> HTTPRequest {
        var headers: HTTPHeaders = ["Content-Type": route.contentType]
        if let token = route.token { headers.add("Authorization", "Bearer \(token)") }
        return HTTPRequest(method: route.method, target: route.target, headers: headers, body: Data(route.body.utf8))
    }
}
