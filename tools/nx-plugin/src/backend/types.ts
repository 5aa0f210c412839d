/**
 * The shapes the patched backend build records (backend.json) and the
 * toolchain manifest carries as `backend`: a type-only module, so that the
 * toolchain locator can name them without importing the backend build.
 */

/** The source of the backend as pinned in projects/llvm-m68k/nextrust.json (`backend.source`). */
export interface DebianSourcePin {
  /** Debian source package, e.g. `llvm-toolchain-22`. */
  package: string;
  /** Debian version, e.g. `1:22.1.8-1~deb12u1`. */
  version: string;
  /** File name of the orig tarball, e.g. `llvm-toolchain-22_22.1.8.orig.tar.xz`. */
  tarball: string;
  /** Expected sha256 (hex) of the tarball; the archive's Checksums-Sha256 must agree. */
  sha256: string;
}

/** One patch of the series. */
export interface PatchInfo {
  /** File name, e.g. `0002-keep-ccr-across-register-copies.patch`. */
  file: string;
  /** sha256 (hex) of the file. */
  sha256: string;
  subject: string;
  fixes: string;
  upstream: string;
  test: string;
}

/** What backend.json records; the toolchain manifest carries it as `backend`. */
export interface BackendManifest {
  schemaVersion: 1;
  /** Workspace-relative path of the library. */
  library: string;
  /** sha256 (hex) of the library: the backend's identity in every downstream cache key. */
  sha256: string;
  /** Bytes. */
  size: number;
  source: DebianSourcePin;
  patches: PatchInfo[];
  llvm: {
    /** `llvm-config --version`, e.g. 22.1.8. */
    version: string;
    /** The libLLVM the library links and replaces the M68k target of. */
    libLLVM: string;
    libLLVMSha256: string;
  };
  /** `g++ --version` first line. */
  compiler: string;
}
