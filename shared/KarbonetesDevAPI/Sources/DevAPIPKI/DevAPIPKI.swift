import CKarbonOpenSSL
public import Foundation

/// The server's own certificate authority and serving certificate, made with libcrypto
/// (EC P-256 keys, SHA-256 signatures, SAN `localhost`, `127.0.0.1`, `::1`), so that clients
/// verify the server as they would a cluster's, with the CA in their kubeconfig.
public struct DevAPIPKI: Sendable {
    public let caCertificateFile: String
    public let certificateFile: String
    public let keyFile: String

    public var caCertificatePEM: Data { FileManager.default.contents(atPath: caCertificateFile) ?? Data() }

    /// Reuses the files in `directory` when all three are there (so a restarted server keeps
    /// the CA that written kubeconfigs trust), else makes new ones.
    public static func loadOrCreate(in directory: String, hosts: [String] = []) throws -> DevAPIPKI {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let pki = DevAPIPKI(
            caCertificateFile: directory + "/ca.crt", certificateFile: directory + "/apiserver.crt",
            keyFile: directory + "/apiserver.key")
        let files = [pki.caCertificateFile, pki.certificateFile, pki.keyFile]
        if files.allSatisfy(FileManager.default.fileExists(atPath:)) { return pki }
        let caKey = try generateKey()
        defer { EVP_PKEY_free(caKey) }
        let ca = try makeCertificate(commonName: "karbonetes-devapi-ca", publicKey: caKey, issuer: nil, issuerKey: caKey, serverNames: nil)
        defer { X509_free(ca) }
        let key = try generateKey()
        defer { EVP_PKEY_free(key) }
        let names = ["DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "IP:127.0.0.1", "IP:::1"]
            + hosts.map { $0.contains(where: \.isLetter) && !$0.contains(":") ? "DNS:\($0)" : "IP:\($0)" }
        let serving = try makeCertificate(commonName: "karbonetes-devapi", publicKey: key, issuer: ca, issuerKey: caKey, serverNames: names)
        defer { X509_free(serving) }
        try write(certificate: ca, to: pki.caCertificateFile)
        try write(certificate: serving, to: pki.certificateFile)
        try write(key: key, to: pki.keyFile)
        return pki
    }

    /// A random bearer token (256 bits, hex) kept in `file`, reused when it exists.
    public static func loadOrCreateToken(at file: String) throws -> String {
        if let data = FileManager.default.contents(atPath: file),
            let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        {
            return token
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else { throw PKIError.openSSL("RAND_bytes for the token in \(file)") }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        guard FileManager.default.createFile(atPath: file, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw PKIError.cannotWrite(file)
        }
        return token
    }

    private static func generateKey() throws -> OpaquePointer {
        guard let key = karbon_generate_ec_p256_key() else { throw PKIError.openSSL("EC P-256 key generation") }
        return key
    }

    private static func makeCertificate(
        commonName: String, publicKey: OpaquePointer, issuer: OpaquePointer?, issuerKey: OpaquePointer, serverNames: [String]?
    ) throws -> OpaquePointer {
        guard let certificate = X509_new() else { throw PKIError.openSSL("X509_new for \(commonName)") }
        var ok = X509_set_version(certificate, 2) == 1
        ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(certificate), Int.random(in: 1_000..<Int(Int32.max))) == 1
        ok = ok && X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil
        ok = ok && X509_gmtime_adj(X509_getm_notAfter(certificate), 365 * 86_400) != nil
        ok = ok && X509_set_pubkey(certificate, publicKey) == 1
        let name = X509_get_subject_name(certificate)
        ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1
        ok = ok && X509_set_issuer_name(certificate, issuer.map { X509_get_subject_name($0) } ?? name) == 1
        var extensions: [(Int32, String)] = [(NID_subject_key_identifier, "hash")]
        if let serverNames {
            extensions += [
                (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature,keyEncipherment"),
                (NID_ext_key_usage, "serverAuth"), (NID_authority_key_identifier, "keyid:always"),
                (NID_subject_alt_name, serverNames.joined(separator: ",")),
            ]
        } else {
            extensions += [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")]
        }
        for (nid, value) in extensions where ok {
            ok = karbon_X509_add_extension(certificate, issuer ?? certificate, nid, value) == 1
        }
        ok = ok && X509_sign(certificate, issuerKey, EVP_sha256()) > 0
        guard ok else {
            X509_free(certificate)
            throw PKIError.openSSL("building the certificate for \(commonName)")
        }
        return certificate
    }

    private static func write(certificate: OpaquePointer, to path: String) throws {
        guard let bio = BIO_new_file(path, "w") else { throw PKIError.cannotWrite(path) }
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509(bio, certificate) == 1 else { throw PKIError.cannotWrite(path) }
    }

    private static func write(key: OpaquePointer, to path: String) throws {
        guard let bio = BIO_new_file(path, "w") else { throw PKIError.cannotWrite(path) }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 else { throw PKIError.cannotWrite(path) }
        chmod(path, 0o600)
    }
}

/// A failure making the server's certificates or token, naming the file or subject.
public struct PKIError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case openSSL(String)
        case file(String)
    }

    private let kind: Kind

    static func openSSL(_ step: String) -> PKIError { PKIError(kind: .openSSL(step)) }
    static func cannotWrite(_ path: String) -> PKIError { PKIError(kind: .file(path)) }

    public var description: String {
        switch kind {
        case .openSSL(let step): "libcrypto failed: \(step)"
        case .file(let path): "cannot write \(path)"
        }
    }
}
