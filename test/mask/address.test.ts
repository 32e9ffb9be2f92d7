import { describe, expect, it } from 'vitest';
import { computeMasks } from '../../src/mask/index.js';

const label = (value: string) => computeMasks('addressDetail', value, {}, {})['label'];

describe('address detail: label hides the unit and room', () => {
  it.each([
    ['科技园路1号3栋2单元501室', '科技园路1号3栋*单元***室'],
    ['5-2-301', '5-*-***'],
    ['18楼1801', '18楼****'],
    ['文一西路969号3幢2单元501室', '文一西路969号3幢*单元***室'],
    ['3幢2单元501室', '3幢*单元***室'],
    ['3幢 2 单元 501 室', '3幢 * 单元 *** 室'],
    ['阳光小区5栋二单元', '阳光小区5栋*单元'],
    ['阳光小区5栋十二单元', '阳光小区5栋**单元'],
    ['金色家园1801号房', '金色家园****号房'],
    ['幸福村3组12户', '幸福村3组**户'],
    ['5号楼2单元301', '5号楼*单元***'],
    ['望京SOHO B座1203', '望京SOHO B座****'],
    ['A座1203室', 'A座****室'],
    ['3栋501', '3栋***'],
    ['10栋1002', '10栋****'],
    ['18层1801室', '18层****室'],
    ['和平里3-501', '和平里3-***'],
    ['和平里12-3-1201', '和平里12-*-****'],
    ['科技园路1-3号5-2-301', '科技园路1-3号5-*-***'],
    ['科技园路１号３栋２单元５０１室', '科技园路1号3栋*单元***室'],
    ['1单元B501室', '*单元****室'],
  ])('%s → %s', (value, expected) => {
    expect(label(value)).toBe(expected);
  });

  it.each([['科技园路1号'], ['科技园路1-3号'], ['3号楼'], ['村口小卖部'], [''], ['朝阳区某某大厦']])(
    'without a unit or room %j → ****',
    (value) => {
      expect(label(value)).toBe('****');
    },
  );

  it('screen always shows ****', () => {
    expect(computeMasks('addressDetail', '科技园路1号3栋2单元501室', {}, {})['screen']).toBe('****');
    expect(computeMasks('addressDetail', '村口小卖部', {}, {})['screen']).toBe('****');
  });
});
