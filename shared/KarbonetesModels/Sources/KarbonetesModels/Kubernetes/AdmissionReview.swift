/// `admission.k8s.io/v1` AdmissionReview. The request's object is kept as raw JSON: the
/// webhook reads it as a Job separately, so that an unreadable Job still gets an answer.
public struct AdmissionReview: Sendable, Codable {
    public static let apiVersion = "admission.k8s.io/v1"
    public static let kind = "AdmissionReview"

    public var apiVersion: String?
    public var kind: String?
    public var request: AdmissionRequest?
    public var response: AdmissionResponse?

    public init(apiVersion: String? = AdmissionReview.apiVersion, kind: String? = AdmissionReview.kind, request: AdmissionRequest? = nil, response: AdmissionResponse? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.request = request
        self.response = response
    }
}

public struct GroupVersionKind: Sendable, Hashable, Codable {
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }

    public static let job = GroupVersionKind(group: "batch", version: "v1", kind: "Job")
}

public struct GroupVersionResource: Sendable, Hashable, Codable {
    public var group: String
    public var version: String
    public var resource: String

    public init(group: String, version: String, resource: String) {
        self.group = group
        self.version = version
        self.resource = resource
    }

    public static let jobs = GroupVersionResource(group: "batch", version: "v1", resource: "jobs")
}

public struct AdmissionUserInfo: Sendable, Hashable, Codable {
    public var username: String?
    public var uid: String?
    public var groups: [String]?

    public init(username: String? = nil, uid: String? = nil, groups: [String]? = nil) {
        self.username = username
        self.uid = uid
        self.groups = groups
    }
}

public struct AdmissionRequest: Sendable, Codable {
    public var uid: String
    public var kind: GroupVersionKind?
    public var resource: GroupVersionResource?
    public var subResource: String?
    public var name: String?
    public var namespace: String?
    public var operation: String?
    public var userInfo: AdmissionUserInfo?
    public var object: JSONValue?
    public var oldObject: JSONValue?
    public var dryRun: Bool?

    public init(
        uid: String, kind: GroupVersionKind? = .job, resource: GroupVersionResource? = .jobs, subResource: String? = nil,
        name: String? = nil, namespace: String? = nil, operation: String? = "CREATE", userInfo: AdmissionUserInfo? = nil,
        object: JSONValue? = nil, oldObject: JSONValue? = nil, dryRun: Bool? = nil
    ) {
        self.uid = uid
        self.kind = kind
        self.resource = resource
        self.subResource = subResource
        self.name = name
        self.namespace = namespace
        self.operation = operation
        self.userInfo = userInfo
        self.object = object
        self.oldObject = oldObject
        self.dryRun = dryRun
    }
}

public struct AdmissionResponse: Sendable, Codable {
    public var uid: String
    public var allowed: Bool
    public var status: Status?
    /// Base64 of the JSON Patch.
    public var patch: String?
    public var patchType: String?
    public var warnings: [String]?
    public var auditAnnotations: [String: String]?

    public init(uid: String, allowed: Bool, status: Status? = nil, patch: String? = nil, patchType: String? = nil, warnings: [String]? = nil, auditAnnotations: [String: String]? = nil) {
        self.uid = uid
        self.allowed = allowed
        self.status = status
        self.patch = patch
        self.patchType = patchType
        self.warnings = warnings
        self.auditAnnotations = auditAnnotations
    }
}
