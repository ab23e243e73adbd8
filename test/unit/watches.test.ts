import { expect } from 'chai';
import { kernelDevice } from '../../src/capture/event.js';
import { isUnder, mountPointsUnder, parseMountPoints } from '../../src/capture/watches.js';

const MOUNTINFO = `22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 22 0:35 / /srv/watched/mnt rw shared:20 - tmpfs wba-test rw
41 22 0:36 / /srv/watched\\040dir/inner rw shared:21 - tmpfs x rw
42 22 0:37 / /srv/watchedness rw shared:22 - tmpfs y rw
`;

describe('watches', () => {
  it('reads mount points from mountinfo, decoding octal escapes', () => {
    expect(parseMountPoints(MOUNTINFO)).to.deep.equal(['/', '/srv/watched/mnt', '/srv/watched dir/inner', '/srv/watchedness']);
  });
  it('keeps the mounts strictly inside monitored directories, not name prefixes', () => {
    expect(mountPointsUnder(parseMountPoints(MOUNTINFO), ['/srv/watched'])).to.deep.equal(['/srv/watched/mnt']);
    expect(mountPointsUnder(parseMountPoints(MOUNTINFO), ['/srv/watched dir'])).to.deep.equal(['/srv/watched dir/inner']);
    expect(isUnder('/srv/watched', '/srv/watched')).to.equal(true);
    expect(isUnder('/srv/watchedness/x', '/srv/watched')).to.equal(false);
    expect(isUnder('/srv/watched/a/b', '/srv/watched/')).to.equal(true);
  });
  it("converts glibc's st_dev to the kernel's dev_t (major << 20 | minor)", () => {
    expect(kernelDevice(0x0fe01)).to.equal((254 << 20) | 1); // 254:1
    expect(kernelDevice(35)).to.equal(35); // 0:35, a tmpfs
    expect(kernelDevice(0x1000205n)).to.equal((2 << 20) | 0x1005); // minor > 255 lives in high bits
  });
});
