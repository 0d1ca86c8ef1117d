/// `coordination.k8s.io/v1` Lease, fully modelled (leader election writes it whole with a
/// `resourceVersion` precondition, so no field may be lost by re-encoding).
public struct Lease: KubernetesObject, Hashable {
    public static let apiVersion = "coordination.k8s.io/v1"
    public static let kind = "Lease"

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: LeaseSpec?

    public init(apiVersion: String? = Lease.apiVersion, kind: String? = Lease.kind, metadata: ObjectMeta, spec: LeaseSpec? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(LeaseSpec.self, forKey: .spec)
    }
}

public struct LeaseSpec: Sendable, Hashable, Codable {
    public var holderIdentity: String?
    public var leaseDurationSeconds: Int?
    public var acquireTime: MicroTime?
    public var renewTime: MicroTime?
    public var leaseTransitions: Int?
    public var strategy: String?
    public var preferredHolder: String?

    public init(holderIdentity: String? = nil, leaseDurationSeconds: Int? = nil, acquireTime: MicroTime? = nil, renewTime: MicroTime? = nil, leaseTransitions: Int? = nil, strategy: String? = nil, preferredHolder: String? = nil) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
        self.strategy = strategy
        self.preferredHolder = preferredHolder
    }
}
