import DevAPIStore
import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesLogging
import KarbonetesModels
import KarbonetesTLS

/// Calls the mutating admission webhooks that match a request, in the order of their
/// configurations' names, as the real server does: over HTTPS, trusting only the webhook's
/// `caBundle`, within its `timeoutSeconds`, and on failure either refusing the request
/// (`failurePolicy: Fail`, the default) or going on without it (`Ignore`). Each webhook sees
/// the object as the previous one left it.
struct AdmissionChain: Sendable {
    let logger: Logger

    struct Request: Sendable {
        var object: JSONValue
        var oldObject: JSONValue?
        var operation: String
        var type: ResourceType
        var namespace: String?
        var dryRun: Bool
    }

    func admit(_ request: Request, store: SharedStore) async throws(StoreError) -> JSONValue {
        let (configurations, namespaceLabels) = try store.read { store throws(StoreError) in
            let configurations = try store.list(.mutatingWebhookConfigurations, namespace: nil).items
            let labels = request.namespace.flatMap { try? store.get(.namespaces, namespace: nil, name: $0).labels } ?? [:]
            return (configurations, labels)
        }
        var object = request.object
        for configuration in configurations {
            for webhook in configuration["webhooks"]?.arrayValue ?? [] {
                guard try matches(webhook, request: request, object: object, namespaceLabels: namespaceLabels) else { continue }
                object = try await call(webhook, request: request, object: object)
            }
        }
        return object
    }

    private func matches(_ webhook: JSONValue, request: Request, object: JSONValue, namespaceLabels: [String: String]) throws(StoreError) -> Bool {
        let rules = webhook["rules"]?.arrayValue ?? []
        let ruleMatches = rules.contains { rule in
            func has(_ key: String, _ value: String) -> Bool {
                let values = rule[key]?.arrayValue?.compactMap(\.stringValue) ?? []
                return values.contains("*") || values.contains(value)
            }
            let scope = rule["scope"]?.stringValue ?? "*"
            let scopeMatches = scope == "*" || (scope == "Namespaced") == request.type.namespaced
            return has("operations", request.operation) && has("apiGroups", request.type.group)
                && has("apiVersions", request.type.version) && has("resources", request.type.resource) && scopeMatches
        }
        guard ruleMatches else { return false }
        if request.type.namespaced {
            let namespaceSelector = try LabelSelector(object: webhook["namespaceSelector"])
            guard namespaceSelector.matches(namespaceLabels) else { return false }
        }
        let objectSelector = try LabelSelector(object: webhook["objectSelector"])
        var labels: [String: String] = [:]
        for (key, value) in object["metadata"]?["labels"]?.objectValue ?? [:] { labels[key] = value.stringValue }
        return objectSelector.matches(labels)
    }

    private func call(_ webhook: JSONValue, request: Request, object: JSONValue) async throws(StoreError) -> JSONValue {
        let name = webhook["name"]?.stringValue ?? "unnamed"
        let ignoreFailures = webhook["failurePolicy"]?.stringValue == "Ignore"
        var timeout = 10
        if case .number(let seconds)? = webhook["timeoutSeconds"] { timeout = max(1, min(30, Int(seconds))) }
        let uid = UUID().uuidString.lowercased()
        let hooklog = logger.with(["webhook.name": name, "request.uid": uid, "resource": request.type.description])
        do {
            let review = AdmissionReview(
                request: AdmissionRequest(
                    uid: uid,
                    kind: GroupVersionKind(group: request.type.group, version: request.type.version, kind: request.type.kind),
                    resource: GroupVersionResource(group: request.type.group, version: request.type.version, resource: request.type.resource),
                    name: object["metadata"]?["name"]?.stringValue, namespace: request.namespace, operation: request.operation,
                    userInfo: AdmissionUserInfo(username: "karbonetes-devapi-user", groups: ["system:authenticated"]),
                    object: object, oldObject: request.oldObject, dryRun: request.dryRun))
            let response = try await post(review, to: webhook, timeout: timeout)
            guard let answer = response.response, answer.uid == uid else {
                throw WebhookCallError("the response has no response or a different uid")
            }
            guard answer.allowed else {
                let message = answer.status?.message ?? "denied"
                hooklog.info("admission webhook denied the request", metadata: ["reason": message])
                throw StoreError.other(
                    code: answer.status?.code ?? 400, reason: answer.status?.reason ?? Status.Reason.badRequest,
                    message: "admission webhook \"\(name)\" denied the request: \(message)")
            }
            guard let encoded = answer.patch else { return object }
            guard answer.patchType == nil || answer.patchType == "JSONPatch" else {
                throw WebhookCallError("unsupported patchType \(answer.patchType ?? "")")
            }
            guard let patch = Data(base64Encoded: encoded) else { throw WebhookCallError("the patch is not base64") }
            let operations = try KubernetesJSON.decoder.decode([JSONPatchOperation].self, from: patch)
            let patched = try JSONPatchApplier.apply(operations, to: object)
            hooklog.debug("admission webhook patched the object", metadata: ["patch.ops": String(operations.count)])
            return patched
        } catch let error as StoreError {
            throw error
        } catch {
            hooklog.warning("admission webhook call failed", metadata: ["error": "\(error)", "failurePolicy": ignoreFailures ? "Ignore" : "Fail"])
            if ignoreFailures { return object }
            throw StoreError.internalError("failed calling webhook \"\(name)\": \(error)")
        }
    }

    private func post(_ review: AdmissionReview, to webhook: JSONValue, timeout: Int) async throws -> AdmissionReview {
        guard let urlText = webhook["clientConfig"]?["url"]?.stringValue, let url = URL(string: urlText),
            let scheme = url.scheme, let host = url.host
        else {
            throw WebhookCallError("clientConfig.url is missing (service references cannot be resolved without a cluster)")
        }
        guard scheme == "https" else { throw WebhookCallError("clientConfig.url must be https") }
        var trust = TLSTrustRoots.systemDefault
        if let bundle = webhook["clientConfig"]?["caBundle"]?.stringValue, !bundle.isEmpty {
            guard let pem = Data(base64Encoded: bundle) else { throw WebhookCallError("caBundle is not base64") }
            trust = .pem(.data(pem))
        }
        let origin = URL(string: "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(url.port ?? 443)")!
        let client = try HTTPClient(
            configuration: HTTPClientConfiguration(
                baseURL: origin, tls: TLSClientConfiguration(trustRoots: trust), connectTimeout: .seconds(timeout),
                requestTimeout: .seconds(timeout), maxIdleConnections: 0, userAgent: "karbonetes-devapi-admission"))
        let query = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?.map { (name: $0.name, value: $0.value ?? "") } ?? []
        let body = try KubernetesJSON.encoder.encode(review)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(
                HTTPClientRequest(
                    method: .post, path: url.path.isEmpty ? "/" : url.path, query: query,
                    headers: ["Content-Type": "application/json", "Accept": "application/json"], body: body, timeout: .seconds(timeout)))
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        guard response.status == 200 else { throw WebhookCallError("the webhook answered HTTP \(response.status)") }
        return try KubernetesJSON.decoder.decode(AdmissionReview.self, from: response.body)
    }
}

/// Why a webhook's answer could not be used.
struct WebhookCallError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
