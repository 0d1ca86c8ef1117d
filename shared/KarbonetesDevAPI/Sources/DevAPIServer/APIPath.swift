import Foundation

/// A request path split into what the API routes on: group, version, namespace, resource,
/// name and subresource (`/apis/batch/v1/namespaces/ns/jobs/x/status`).
struct APIPath: Equatable {
    var group: String
    var version: String
    var namespace: String?
    var resource: String?
    var name: String?
    var subresource: String?

    /// Nil for paths outside `/api/v1…` and `/apis/<group>/<version>…`.
    init?(_ path: String) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        var rest: ArraySlice<String>
        if segments.first == "api", segments.count >= 2 {
            group = ""
            version = segments[1]
            rest = segments.dropFirst(2)
        } else if segments.first == "apis", segments.count >= 3 {
            group = segments[1]
            version = segments[2]
            rest = segments.dropFirst(3)
        } else {
            return nil
        }
        if rest.first == "namespaces", rest.count >= 3, !(rest.count == 3 && ["status", "finalize"].contains(rest.last!)) {
            namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        guard rest.count <= 3 else { return nil }
        let items = Array(rest)
        resource = items.first
        name = items.count > 1 ? items[1] : nil
        subresource = items.count > 2 ? items[2] : nil
    }
}
