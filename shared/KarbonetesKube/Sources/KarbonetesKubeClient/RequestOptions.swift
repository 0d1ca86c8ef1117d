public import KarbonetesModels

/// `list` query parameters.
public struct ListOptions: Sendable, Hashable {
    /// `app=train,tier!=web`, `carbon-aware.io/state in (held)`.
    public var labelSelector: String?
    /// `metadata.name=x`, `status.phase!=Succeeded`.
    public var fieldSelector: String?
    /// Page size; the server returns a `continue` token when more remain.
    public var limit: Int?
    public var `continue`: String?
    /// `"0"` allows the server's cache; nil asks for the latest (a quorum read).
    public var resourceVersion: String?

    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continue: String? = nil, resourceVersion: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continue = `continue`
        self.resourceVersion = resourceVersion
    }

    var queryItems: [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        if let labelSelector, !labelSelector.isEmpty { items.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { items.append(("fieldSelector", fieldSelector)) }
        if let limit, limit > 0 { items.append(("limit", String(limit))) }
        if let token = `continue`, !token.isEmpty { items.append(("continue", token)) }
        if let resourceVersion { items.append(("resourceVersion", resourceVersion)) }
        return items
    }
}

/// `watch` query parameters.
public struct WatchOptions: Sendable, Hashable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Start after this version (the list's, or the last event's); nil or `"0"` starts with
    /// synthetic `ADDED` events for what exists.
    public var resourceVersion: String?
    /// Ask for `BOOKMARK` events, which move the resume point on without a change.
    public var allowWatchBookmarks: Bool
    /// The server ends the watch after this long; the informer then resumes it.
    public var timeoutSeconds: Int?

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil,
        allowWatchBookmarks: Bool = true, timeoutSeconds: Int? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.allowWatchBookmarks = allowWatchBookmarks
        self.timeoutSeconds = timeoutSeconds
    }

    var queryItems: [(name: String, value: String)] {
        var items: [(name: String, value: String)] = [("watch", "true")]
        if let labelSelector, !labelSelector.isEmpty { items.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { items.append(("fieldSelector", fieldSelector)) }
        if let resourceVersion, !resourceVersion.isEmpty { items.append(("resourceVersion", resourceVersion)) }
        if allowWatchBookmarks { items.append(("allowWatchBookmarks", "true")) }
        if let timeoutSeconds, timeoutSeconds > 0 { items.append(("timeoutSeconds", String(timeoutSeconds))) }
        return items
    }
}

/// A patch and its content type. JSON Patch is what Karbonetes sends (minimal ops with `test`
/// preconditions); merge patch where a whole map is set; strategic merge only for built-in
/// types (custom resources reject it with 415).
public enum KubePatch: Sendable, Hashable {
    /// `application/json-patch+json` (RFC 6902).
    case json([JSONPatchOperation])
    /// `application/merge-patch+json` (RFC 7386): `null` deletes a field.
    case merge(JSONValue)
    /// `application/strategic-merge-patch+json`.
    case strategicMerge(JSONValue)

    public var contentType: String {
        switch self {
        case .json: "application/json-patch+json"
        case .merge: "application/merge-patch+json"
        case .strategicMerge: "application/strategic-merge-patch+json"
        }
    }
}

/// `DeleteOptions` that matter here.
public struct DeleteOptions: Sendable, Hashable, Encodable {
    public enum PropagationPolicy: String, Sendable, Hashable, Encodable {
        case orphan = "Orphan", background = "Background", foreground = "Foreground"
    }

    public struct Preconditions: Sendable, Hashable, Encodable {
        public var uid: String?
        public var resourceVersion: String?

        public init(uid: String? = nil, resourceVersion: String? = nil) {
            self.uid = uid
            self.resourceVersion = resourceVersion
        }
    }

    public var propagationPolicy: PropagationPolicy?
    public var gracePeriodSeconds: Int?
    /// Delete only this version of the object (409 otherwise).
    public var preconditions: Preconditions?

    public init(propagationPolicy: PropagationPolicy? = nil, gracePeriodSeconds: Int? = nil, preconditions: Preconditions? = nil) {
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditions = preconditions
    }

    var isEmpty: Bool { propagationPolicy == nil && gracePeriodSeconds == nil && preconditions == nil }

    private enum CodingKeys: String, CodingKey { case apiVersion, kind, propagationPolicy, gracePeriodSeconds, preconditions }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("v1", forKey: .apiVersion)
        try container.encode("DeleteOptions", forKey: .kind)
        try container.encodeIfPresent(propagationPolicy, forKey: .propagationPolicy)
        try container.encodeIfPresent(gracePeriodSeconds, forKey: .gracePeriodSeconds)
        try container.encodeIfPresent(preconditions, forKey: .preconditions)
    }
}
