public import Foundation
public import KarbonetesLogging
import KarbonetesMetrics
public import KarbonetesModels

/// Turns the bytes of an AdmissionReview into the bytes of the answer, with the shared
/// decision engine. No sockets: the HTTPS server hands it bodies, tests hand it fixtures.
///
/// Bad requests (not JSON, not an `admission.k8s.io/v1` AdmissionReview, no `request`) get a
/// 400 with a message; a well-formed review of a Job that cannot be read gets `allowed: true`
/// with no patch and a warning, because a broken manifest must never be blocked or mangled
/// by Karbonetes: the API server's own validation will tell the user what is wrong.
public struct AdmissionReviewHandler: Sendable {
    public struct Result: Sendable {
        public var status: Int
        public var body: Data
        /// For logs and metrics: what was decided.
        public var decision: String
    }

    private let policies: any PolicyLookup
    private let signal: any SignalSource
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let metrics: WebhookMetrics

    public init(policies: any PolicyLookup, signal: any SignalSource, metrics: WebhookMetrics, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.policies = policies
        self.signal = signal
        self.metrics = metrics
        self.logger = logger
        self.now = now
    }

    public func handle(body: Data, contentType: String?) async -> Result {
        let started = ContinuousClock.now
        let result = await decide(body: body, contentType: contentType)
        let elapsed = ContinuousClock.now - started
        metrics.admissions.increment(labels: ["decision": result.decision])
        metrics.duration.observe(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return result
    }

    private func decide(body: Data, contentType: String?) async -> Result {
        guard Self.isJSON(contentType) else {
            metrics.errors.increment(labels: ["reason": "unsupported-media-type"])
            return failure(415, "Content-Type must be application/json, got \(contentType.map { "\"\($0)\"" } ?? "none")")
        }
        let review: IncomingReview
        do {
            review = try KubernetesJSON.decode(IncomingReview.self, from: body)
        } catch {
            metrics.errors.increment(labels: ["reason": "bad-request"])
            return failure(400, "request body is not an AdmissionReview: \(Self.describe(error))")
        }
        guard review.kind == AdmissionReview.kind, review.apiVersion == AdmissionReview.apiVersion else {
            metrics.errors.increment(labels: ["reason": "bad-request"])
            return failure(400, "expected kind AdmissionReview and apiVersion \(AdmissionReview.apiVersion), got kind \(review.kind ?? "none") and apiVersion \(review.apiVersion ?? "none")")
        }
        guard let request = review.request else {
            metrics.errors.increment(labels: ["reason": "bad-request"])
            return failure(400, "AdmissionReview has no request")
        }
        guard let uid = request.uid, !uid.isEmpty else {
            metrics.errors.increment(labels: ["reason": "bad-request"])
            return failure(400, "AdmissionReview request has no uid")
        }
        let apiVersion = review.apiVersion ?? AdmissionReview.apiVersion
        // Built only for a line that is written: merging metadata on every admission showed in profiles.
        func log(_ job: Job?) -> Logger {
            var metadata = ["request.uid": uid, "job.namespace": request.namespace ?? ""]
            if let job { metadata["job.name"] = job.metadata.name ?? job.metadata.generateName ?? "" }
            return logger.with(metadata)
        }

        if let kind = request.kind, kind.group != "batch" || kind.kind != "Job" {
            return respond(uid: uid, apiVersion: apiVersion, patch: [], warnings: [], decision: "unchanged")
        }
        var job: Job
        switch request.object {
        case .success(let decoded):
            job = decoded
        case .failure(let message):
            metrics.errors.increment(labels: ["reason": "unreadable-job"])
            log(nil).warning("admitted a Job Karbonetes cannot read, unchanged", metadata: ["error": message])
            return respond(uid: uid, apiVersion: apiVersion, patch: [], warnings: ["carbon-aware: could not read the Job (\(message)); admitted unchanged"], decision: "unchanged")
        }
        if job.metadata.namespace == nil { job.metadata.namespace = request.namespace }

        if AdmissionDecider.exemption(for: job, operation: request.operation) != nil {
            return respond(uid: uid, apiVersion: apiVersion, patch: [], warnings: [], decision: "unchanged")
        }
        let resolution = PolicyResolver.resolve(job: job, policies: policies)
        let reading = await signal.reading(region: resolution.policy.region)
        let decision = AdmissionDecider.decide(job: job, operation: request.operation, policy: resolution, signal: reading, now: now())
        let warnings = decision.warnings.map { "carbon-aware: \($0)" }
        if request.dryRun != true, logger.isEnabled(.info) {
            log(job).info("admission decided", metadata: [
                "decision": decision.outcome.metricLabel, "policy": resolution.policy.policyName ?? "built-in",
                "region": resolution.policy.region, "warnings": decision.warnings.joined(separator: "; "),
            ])
        }
        return respond(uid: uid, apiVersion: apiVersion, patch: decision.patch, warnings: warnings, decision: decision.outcome.metricLabel)
    }

    private func respond(uid: String, apiVersion: String, patch: [JSONPatchOperation], warnings: [String], decision: String) -> Result {
        Result(status: 200, body: Self.answer(uid: uid, apiVersion: apiVersion, patch: patch, warnings: warnings), decision: decision)
    }

    /// The AdmissionReview answer, written directly: the envelope is fixed, so only the uid,
    /// the patch and the warnings vary. Byte for byte what `KubernetesJSON.encoder` writes for
    /// the same ``AdmissionReview`` (a test holds it to that), at a fraction of the cost.
    static func answer(uid: String, apiVersion: String, patch: [JSONPatchOperation], warnings: [String]) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(patch.isEmpty ? 160 : 1024)
        bytes.append(contentsOf: #"{"apiVersion":"#.utf8)
        JSONValueWriter.appendString(apiVersion, to: &bytes)
        bytes.append(contentsOf: #","kind":"AdmissionReview","response":{"allowed":true"#.utf8)
        if !patch.isEmpty {
            bytes.append(contentsOf: #","patch":""#.utf8)
            bytes.append(contentsOf: patch.jsonData.base64EncodedData())
            bytes.append(contentsOf: #"","patchType":"JSONPatch""#.utf8)
        }
        bytes.append(contentsOf: #","uid":"#.utf8)
        JSONValueWriter.appendString(uid, to: &bytes)
        if !warnings.isEmpty {
            bytes.append(contentsOf: #","warnings":["#.utf8)
            for (index, warning) in warnings.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                JSONValueWriter.appendString(warning, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(contentsOf: "}}".utf8)
        return Data(bytes)
    }

    private func failure(_ status: Int, _ message: String) -> Result {
        logger.warning("rejected an admission request", metadata: ["http.status": String(status), "error": message])
        let body = (try? KubernetesJSON.encoder.encode(["error": message])) ?? Data()
        return Result(status: status, body: body, decision: "error")
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return mediaType == "application/json"
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case DecodingError.keyNotFound(let key, let context):
            return "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        default:
            return String(describing: error)
        }
    }
}

/// The AdmissionReview as the webhook reads it: every field lenient, and the object decoded
/// straight into a `Job` in the same pass (a failure is kept, not thrown), so a well-formed
/// review of an unreadable Job can still be answered.
struct IncomingReview: Decodable {
    var apiVersion: String?
    var kind: String?
    var request: IncomingRequest?

    private enum CodingKeys: String, CodingKey { case apiVersion, kind, request }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try? container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try? container.decodeIfPresent(String.self, forKey: .kind)
        request = try? container.decodeIfPresent(IncomingRequest.self, forKey: .request)
    }
}

struct IncomingRequest: Decodable {
    enum ObjectResult {
        case success(Job)
        case failure(String)
    }

    var uid: String?
    var kind: GroupVersionKind?
    var namespace: String?
    var operation: String?
    var dryRun: Bool?
    var object: ObjectResult

    private enum CodingKeys: String, CodingKey { case uid, kind, namespace, operation, dryRun, object }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uid = try? container.decodeIfPresent(String.self, forKey: .uid)
        kind = try? container.decodeIfPresent(GroupVersionKind.self, forKey: .kind)
        namespace = try? container.decodeIfPresent(String.self, forKey: .namespace)
        operation = try? container.decodeIfPresent(String.self, forKey: .operation)
        dryRun = try? container.decodeIfPresent(Bool.self, forKey: .dryRun)
        do {
            if let job = try container.decodeIfPresent(Job.self, forKey: .object) {
                object = .success(job)
            } else {
                object = .failure("the request has no object")
            }
        } catch {
            object = .failure(AdmissionReviewHandler.describe(error))
        }
    }
}
