public import Foundation
public import KarbonetesModels

/// An error answer from the API server, decoded from its `Status` body so that callers branch
/// on `reason` and `code` (never on message text), and naming the request and object concerned.
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    private enum Body: Sendable {
        /// The server sent a `Status`.
        case status
        /// The body was not a `Status` (a proxy's HTML page, an empty body): its start is kept.
        case other(String)
    }

    private let body: Body
    /// The HTTP status code, or the `Status.code` of a watch `ERROR` event.
    public let code: Int
    /// The decoded `Status`, or one made from the code when the body was not a `Status`.
    public let status: Status
    /// The Kubernetes verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`).
    public let verb: String
    /// What the request was about: `jobs.batch/v1 default/train-42`.
    public let object: String
    /// From the `Retry-After` header or `Status.details.retryAfterSeconds`.
    public let retryAfter: Duration?

    private init(body: Body, code: Int, status: Status, verb: String, object: String, retryAfter: Duration?) {
        self.body = body
        self.code = code
        self.status = status
        self.verb = verb
        self.object = object
        self.retryAfter = retryAfter
    }

    /// Decodes an error response.
    public static func response(
        code: Int, body: Data, retryAfterHeader: String?, verb: String, object: String
    ) -> KubeAPIError {
        let decoded = try? KubernetesJSON.decoder.decode(Status.self, from: body)
        let retryAfter: Duration? =
            if let header = retryAfterHeader?.trimmingCharacters(in: .whitespaces), let seconds = Int(header), seconds >= 0 {
                .seconds(seconds)
            } else if let seconds = decoded?.details?.retryAfterSeconds, seconds >= 0 {
                .seconds(seconds)
            } else { nil }
        if let decoded, decoded.kind == "Status" || decoded.reason != nil || decoded.code != nil {
            return KubeAPIError(body: .status, code: code, status: decoded, verb: verb, object: object, retryAfter: retryAfter)
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        let status = Status(message: text.isEmpty ? nil : text, reason: Self.defaultReason(code), code: code)
        return KubeAPIError(body: .other(text), code: code, status: status, verb: verb, object: object, retryAfter: retryAfter)
    }

    /// An `ERROR` event inside a watch stream (410 Gone when the watched version was compacted).
    public static func watchError(_ status: Status, object: String) -> KubeAPIError {
        KubeAPIError(
            body: .status, code: status.code ?? 500, status: status, verb: "watch", object: object,
            retryAfter: status.details?.retryAfterSeconds.map { .seconds($0) })
    }

    public var reason: String? { status.reason }
    public var message: String { status.message ?? "" }

    public var isNotFound: Bool { code == 404 || reason == Status.Reason.notFound }
    public var isAlreadyExists: Bool { reason == Status.Reason.alreadyExists }
    /// A `resourceVersion` precondition failed: read again and retry.
    public var isConflict: Bool { reason == Status.Reason.conflict || (code == 409 && !isAlreadyExists) }
    /// The requested `resourceVersion` is older than the server keeps: re-list.
    public var isGone: Bool { code == 410 || reason == Status.Reason.gone || reason == "Gone" }
    public var isTooManyRequests: Bool { code == 429 || reason == Status.Reason.tooManyRequests }
    public var isInvalid: Bool { code == 422 || reason == Status.Reason.invalid }
    public var isServerError: Bool { code >= 500 }

    public var description: String {
        let detail: String =
            switch body {
            case .status: "\(code) \(reason ?? "Unknown"): \(message.isEmpty ? "no message" : message)"
            case .other(let text): "\(code) (not a Status body: \(text.isEmpty ? "empty" : text))"
            }
        return "Kubernetes API: \(verb) \(object): \(detail)"
    }

    private static func defaultReason(_ code: Int) -> String {
        switch code {
        case 400: Status.Reason.badRequest
        case 401: Status.Reason.unauthorized
        case 403: Status.Reason.forbidden
        case 404: Status.Reason.notFound
        case 405: Status.Reason.methodNotAllowed
        case 409: Status.Reason.conflict
        case 410: Status.Reason.gone
        case 415: Status.Reason.unsupportedMediaType
        case 422: Status.Reason.invalid
        case 429: Status.Reason.tooManyRequests
        case 503: Status.Reason.serviceUnavailable
        case 504: Status.Reason.timeout
        default: Status.Reason.internalError
        }
    }
}

/// A failure on our side of a request: an answer we cannot read, an object we cannot send, a
/// call missing what its resource needs.
public struct KubeClientError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case undecodable(String)
        case unencodable(String)
        case malformedWatchEvent(String)
        case invalidArgument(String)
    }

    private let kind: Kind
    /// What the request was about: `jobs.batch/v1 default/train-42`.
    public let object: String

    private init(_ kind: Kind, object: String) {
        self.kind = kind
        self.object = object
    }

    public static func undecodable(_ object: String, _ error: any Error) -> KubeClientError {
        .init(.undecodable(String(describing: error)), object: object)
    }

    public static func unencodable(_ object: String, _ error: any Error) -> KubeClientError {
        .init(.unencodable(String(describing: error)), object: object)
    }

    public static func malformedWatchEvent(_ object: String, line: Data, _ error: any Error) -> KubeClientError {
        .init(.malformedWatchEvent("\(String(describing: error)) in \(String(decoding: line.prefix(120), as: UTF8.self))"), object: object)
    }

    public static func invalidArgument(_ object: String, _ problem: String) -> KubeClientError {
        .init(.invalidArgument(problem), object: object)
    }

    public var description: String {
        switch kind {
        case .undecodable(let detail): "Kubernetes client: cannot decode the answer for \(object): \(detail)"
        case .unencodable(let detail): "Kubernetes client: cannot encode the body for \(object): \(detail)"
        case .malformedWatchEvent(let detail): "Kubernetes client: malformed watch event for \(object): \(detail)"
        case .invalidArgument(let problem): "Kubernetes client: \(object): \(problem)"
        }
    }
}
