/// `metav1.Status`, the body of every API error: clients decode it to say what went wrong.
public struct Status: Sendable, Hashable, Codable, Error, CustomStringConvertible {
    public var apiVersion: String?
    public var kind: String?
    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?
    public var details: StatusDetails?

    public init(status: String? = "Failure", message: String? = nil, reason: String? = nil, code: Int? = nil, details: StatusDetails? = nil) {
        self.apiVersion = "v1"
        self.kind = "Status"
        self.status = status
        self.message = message
        self.reason = reason
        self.code = code
        self.details = details
    }

    public var description: String {
        "\(code.map(String.init) ?? "?") \(reason ?? "Unknown"): \(message ?? "no message")"
    }

    /// The `reason` values the API server uses; switch on these, never on message text.
    public enum Reason {
        public static let notFound = "NotFound"
        public static let alreadyExists = "AlreadyExists"
        public static let conflict = "Conflict"
        public static let invalid = "Invalid"
        public static let gone = "Expired"
        public static let tooManyRequests = "TooManyRequests"
        public static let badRequest = "BadRequest"
        public static let unauthorized = "Unauthorized"
        public static let forbidden = "Forbidden"
        public static let methodNotAllowed = "MethodNotAllowed"
        public static let unsupportedMediaType = "UnsupportedMediaType"
        public static let internalError = "InternalError"
        public static let serviceUnavailable = "ServiceUnavailable"
        public static let timeout = "Timeout"
    }
}

public struct StatusDetails: Sendable, Hashable, Codable {
    public var name: String?
    public var group: String?
    public var kind: String?
    public var uid: String?
    public var causes: [StatusCause]?
    public var retryAfterSeconds: Int?

    public init(name: String? = nil, group: String? = nil, kind: String? = nil, uid: String? = nil, causes: [StatusCause]? = nil, retryAfterSeconds: Int? = nil) {
        self.name = name
        self.group = group
        self.kind = kind
        self.uid = uid
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }
}

public struct StatusCause: Sendable, Hashable, Codable {
    public var reason: String?
    public var message: String?
    public var field: String?

    public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
        self.reason = reason
        self.message = message
        self.field = field
    }
}
