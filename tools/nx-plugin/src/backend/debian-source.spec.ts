// Finding the backend's LLVM source through apt: parsing apt's output, the pool layout, the cache folder.
import { nextrustCacheDir, parseIndexTargets, parseShowSrc, poolDirectory } from './debian-source';

describe('parseIndexTargets', () => {
  it('keeps the distinct deb repositories in order, with a trailing slash', () => {
    const text = [
      'http://mirror.example/debian-security/\tbookworm-security\tmain\tdeb',
      'http://mirror.example/debian\tbookworm\tmain\tdeb',
      'http://mirror.example/debian\tbookworm\tmain\tdeb',
      'http://mirror.example/debian/\tbookworm\tmain\tdeb-src',
      '',
    ].join('\n');
    expect(parseIndexTargets(text)).toEqual([
      { uri: 'http://mirror.example/debian-security/', codename: 'bookworm-security', component: 'main' },
      { uri: 'http://mirror.example/debian/', codename: 'bookworm', component: 'main' },
    ]);
  });
});

describe('parseShowSrc', () => {
  it('reads package, version, directory and Checksums-Sha256 of each record', () => {
    const text = [
      'Package: llvm-toolchain-22',
      'Binary: clang-22, llvm-22',
      'Version: 1:22.1.8-1~deb12u1',
      'Checksums-Sha256:',
      ` ${'a'.repeat(64)} 13628 llvm-toolchain-22_22.1.8-1~deb12u1.dsc`,
      ` ${'b'.repeat(64)} 196630560 llvm-toolchain-22_22.1.8.orig.tar.xz`,
      'Directory: pool/updates/main/l/llvm-toolchain-22',
      '',
      'Package: llvm-toolchain-22',
      'Version: 1:22.1.7-1',
      'Directory: pool/main/l/llvm-toolchain-22',
      '',
    ].join('\n');
    const records = parseShowSrc(text);
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({
      package: 'llvm-toolchain-22',
      version: '1:22.1.8-1~deb12u1',
      directory: 'pool/updates/main/l/llvm-toolchain-22',
      files: {
        'llvm-toolchain-22_22.1.8-1~deb12u1.dsc': { sha256: 'a'.repeat(64), size: 13628 },
        'llvm-toolchain-22_22.1.8.orig.tar.xz': { sha256: 'b'.repeat(64), size: 196630560 },
      },
    });
    expect(records[1].files).toEqual({});
  });
});

describe('poolDirectory', () => {
  it('uses the first letter, or four letters for lib* packages (Debian archive layout)', () => {
    expect(poolDirectory('llvm-toolchain-22')).toBe('pool/main/l/llvm-toolchain-22');
    expect(poolDirectory('libffi', 'main')).toBe('pool/main/libf/libffi');
  });
});

describe('nextrustCacheDir', () => {
  it('prefers NEXTRUST_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(nextrustCacheDir({ NEXTRUST_CACHE_DIR: '/c/n', XDG_CACHE_HOME: '/x' })).toBe('/c/n');
    expect(nextrustCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/nextrust');
    expect(nextrustCacheDir({})).toMatch(/\/\.cache\/nextrust$/);
  });
});
