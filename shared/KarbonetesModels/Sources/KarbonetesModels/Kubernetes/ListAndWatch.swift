/// `metav1.ListMeta`: the list's resourceVersion is where a watch starts.
public struct ListMeta: Sendable, Hashable, Codable {
    public var resourceVersion: String?
    public var `continue`: String?
    public var remainingItemCount: Int64?

    public init(resourceVersion: String? = nil, continue: String? = nil, remainingItemCount: Int64? = nil) {
        self.resourceVersion = resourceVersion
        self.continue = `continue`
        self.remainingItemCount = remainingItemCount
    }
}

/// Any `…List` the API server returns.
public struct ObjectList<Item: Codable & Sendable>: Sendable, Codable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ListMeta
    public var items: [Item]

    public init(apiVersion: String? = nil, kind: String? = nil, metadata: ListMeta = ListMeta(), items: [Item]) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.items = items
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        items = try container.decodeIfPresent([Item].self, forKey: .items) ?? []
    }
}

/// The `type` of one line of a watch stream.
public enum WatchEventType: String, Sendable, Hashable, Codable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
    case bookmark = "BOOKMARK"
    case error = "ERROR"
}

/// One line of a watch stream. An `ERROR` line carries a `Status` (410 Gone when the
/// requested resourceVersion is too old), not an object, so the payload says which it is.
public struct WatchEvent<Object: Codable & Sendable>: Sendable, Codable {
    public enum Payload: Sendable {
        case object(Object)
        case status(Status)
    }

    public var type: WatchEventType
    public var payload: Payload

    public init(type: WatchEventType, object: Object) {
        self.type = type
        self.payload = .object(object)
    }

    public init(error status: Status) {
        self.type = .error
        self.payload = .status(status)
    }

    public var object: Object? {
        if case .object(let object) = payload { return object }
        return nil
    }

    private enum CodingKeys: String, CodingKey { case type, object }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(WatchEventType.self, forKey: .type)
        if type == .error {
            payload = .status(try container.decode(Status.self, forKey: .object))
        } else {
            payload = .object(try container.decode(Object.self, forKey: .object))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        switch payload {
        case .object(let object): try container.encode(object, forKey: .object)
        case .status(let status): try container.encode(status, forKey: .object)
        }
    }
}
