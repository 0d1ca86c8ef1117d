import Foundation
public import KarbonetesModels

/// Why the store refused a request, in the API server's own terms: each case maps to the
/// `Status` (code, reason, details) a real kube-apiserver answers, so clients tested against
/// the local server branch on the same values.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case notFound
        case alreadyExists
        case conflict(String)
        case invalid(field: String, message: String)
        case gone(String)
        case badRequest(String)
        case methodNotAllowed(String)
        case unsupportedMediaType(String)
        case other(code: Int, reason: String, message: String)
    }

    private let kind: Kind
    /// `jobs.batch`, `namespaces`: how the real server names the resource in messages.
    public let resource: String
    public let group: String
    public let name: String
    /// The object's kind (`Job`), which `Invalid` messages name.
    public let objectKind: String

    private init(_ kind: Kind, resource: String, group: String, name: String, objectKind: String = "") {
        self.kind = kind
        self.resource = resource
        self.group = group
        self.name = name
        self.objectKind = objectKind
    }

    static func qualified(_ type: ResourceType) -> String {
        type.group.isEmpty ? type.resource : "\(type.resource).\(type.group)"
    }

    public static func notFound(_ type: ResourceType, name: String) -> StoreError {
        StoreError(.notFound, resource: qualified(type), group: type.group, name: name)
    }

    public static func alreadyExists(_ type: ResourceType, name: String) -> StoreError {
        StoreError(.alreadyExists, resource: qualified(type), group: type.group, name: name)
    }

    public static func conflict(_ type: ResourceType, name: String, reason: String) -> StoreError {
        StoreError(.conflict(reason), resource: qualified(type), group: type.group, name: name)
    }

    public static func invalid(_ type: ResourceType, name: String, field: String, message: String) -> StoreError {
        StoreError(.invalid(field: field, message: message), resource: qualified(type), group: type.group, name: name, objectKind: type.kind)
    }

    public static func gone(_ message: String) -> StoreError {
        StoreError(.gone(message), resource: "", group: "", name: "")
    }

    public static func badRequest(_ message: String, name: String = "") -> StoreError {
        StoreError(.badRequest(message), resource: "", group: "", name: name)
    }

    public static func methodNotAllowed(_ message: String) -> StoreError {
        StoreError(.methodNotAllowed(message), resource: "", group: "", name: "")
    }

    public static func unsupportedMediaType(_ contentType: String) -> StoreError {
        StoreError(.unsupportedMediaType("the body of the request was in an unknown format: \(contentType)"), resource: "", group: "", name: "")
    }

    /// Any other answer the server gives in a `Status`: admission denials and failures,
    /// authentication, and injected faults.
    public static func other(code: Int, reason: String, message: String) -> StoreError {
        StoreError(.other(code: code, reason: reason, message: message), resource: "", group: "", name: "")
    }

    public static func unauthorized() -> StoreError { .other(code: 401, reason: Status.Reason.unauthorized, message: "Unauthorized") }

    public static func internalError(_ message: String) -> StoreError {
        .other(code: 500, reason: Status.Reason.internalError, message: "Internal error occurred: \(message)")
    }

    /// The HTTP status code the real server uses for this case.
    public var code: Int {
        switch kind {
        case .notFound: 404
        case .alreadyExists, .conflict: 409
        case .invalid: 422
        case .gone: 410
        case .badRequest: 400
        case .methodNotAllowed: 405
        case .unsupportedMediaType: 415
        case .other(let code, _, _): code
        }
    }

    /// The `metav1.Status` body, as kube-apiserver writes it.
    public var status: Status {
        let details = StatusDetails(name: name.isEmpty ? nil : name, group: group.isEmpty ? nil : group, kind: resource.isEmpty ? nil : resource.components(separatedBy: ".").first)
        switch kind {
        case .notFound:
            return Status(message: description, reason: Status.Reason.notFound, code: code, details: details)
        case .alreadyExists:
            return Status(message: description, reason: Status.Reason.alreadyExists, code: code, details: details)
        case .conflict:
            return Status(message: description, reason: Status.Reason.conflict, code: code, details: details)
        case .invalid(let field, let message):
            var withCauses = details
            withCauses.causes = [StatusCause(reason: "FieldValueInvalid", message: message, field: field)]
            return Status(message: description, reason: Status.Reason.invalid, code: code, details: withCauses)
        case .gone:
            return Status(message: description, reason: Status.Reason.gone, code: code)
        case .badRequest:
            return Status(message: description, reason: Status.Reason.badRequest, code: code)
        case .methodNotAllowed:
            return Status(message: description, reason: Status.Reason.methodNotAllowed, code: code)
        case .unsupportedMediaType:
            return Status(message: description, reason: Status.Reason.unsupportedMediaType, code: code)
        case .other(_, let reason, _):
            return Status(message: description, reason: reason, code: code)
        }
    }

    public var description: String {
        switch kind {
        case .notFound: return "\(resource) \"\(name)\" not found"
        case .alreadyExists: return "\(resource) \"\(name)\" already exists"
        case .conflict(let reason): return "Operation cannot be fulfilled on \(resource) \"\(name)\": \(reason)"
        case .invalid(let field, let message):
            let qualifiedKind = group.isEmpty ? objectKind : "\(objectKind).\(group)"
            return "\(qualifiedKind) \"\(name)\" is invalid: \(field): \(message)"
        case .gone(let message), .badRequest(let message), .methodNotAllowed(let message), .unsupportedMediaType(let message),
            .other(_, _, let message):
            return message
        }
    }
}
